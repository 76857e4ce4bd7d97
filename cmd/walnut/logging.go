package main

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// newLogger logs text to a terminal and JSON elsewhere (Heroku, files), at
// the level in WALNUT_LOG_LEVEL (debug, info, warn, error; default info).
func newLogger(w io.Writer, lookup env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(lookup.get("WALNUT_LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
