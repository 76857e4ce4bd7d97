package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Error is one problem found in a config file. Parse and Load return every
// problem they find, each an *Error, joined with errors.Join; a caller prints
// them one per line.
//
// An Error never holds a value that came from ${...}: it quotes the scalar as
// written in the file instead.
type Error struct {
	File   string // the name given to Parse, or the path given to Load
	Line   int    // 1-based; 0 when the problem has no place in the file
	Column int    // 1-based; 0 when unknown
	Path   string // where in the document, e.g. "sites[2].interval"; may be empty
	Msg    string

	err error // the cause, when it is safe to hand on (see Unwrap)
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			s += fmt.Sprintf(":%d", e.Column)
		}
	}
	s += ": "
	if e.Path != "" {
		s += e.Path + ": "
	}
	return s + e.Msg
}

// Unwrap returns the error a RecipeBuilder returned, if any, so callers can
// match it with errors.Is or errors.As. It is nil when the builder's message
// had to be scrubbed of a secret.
func (e *Error) Unwrap() error { return e.err }

// errorList gathers the problems of one parse.
type errorList struct {
	file string
	errs []*Error
}

func (l *errorList) add(line, col int, path, format string, args ...any) *Error {
	e := &Error{File: l.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)}
	l.errs = append(l.errs, e)
	return e
}

// err returns the problems in file order, each once, joined; nil if none.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sorted := slices.Clone(l.errs)
	slices.SortStableFunc(sorted, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	// A scalar shared through an alias, or a default used by many sites, may
	// report the same problem more than once.
	seen := make(map[string]bool, len(sorted))
	out := make([]error, 0, len(sorted))
	for _, e := range sorted {
		if msg := e.Error(); !seen[msg] {
			seen[msg] = true
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}
