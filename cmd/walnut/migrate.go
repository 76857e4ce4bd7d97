package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("walnut migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: walnut migrate\n\nBrings the schema of DATABASE_URL (or the local PostgreSQL) up to date.\nRunning it again changes nothing.")
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	logger := newLogger(stderr, lookup)
	st, closeDB, err := openDatabase(ctx, lookup, logger)
	if err != nil {
		fmt.Fprintln(stderr, "walnut migrate:", err)
		return exitError
	}
	defer closeDB()
	if err := migrateAll(ctx, st, logger); err != nil {
		fmt.Fprintln(stderr, "walnut migrate:", err)
		return exitError
	}
	fmt.Fprintln(stdout, "database schema is up to date")
	return exitOK
}

// flagExit is the exit code after a flag parse error: --help is a success.
func flagExit(err error) int {
	if err == flag.ErrHelp {
		return exitOK
	}
	return exitError
}
