// Package migrations holds Walnut's schema as goose SQL migrations, embedded
// in the binary so that `walnut migrate` needs no files beside it.
package migrations

import "embed"

// FS holds the migration files, named NNNNN_name.sql so that goose and sqlc
// read them in the same order.
//
//go:embed *.sql
var FS embed.FS
