package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/walnut-board/walnut/recipes"
)

// cmdConfigCheck validates the config and lists what would be watched,
// touching neither the network nor the database.
func cmdConfigCheck(_ context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("walnut config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: walnut config check [--config F]\n\nValidates the config and lists the sites it would watch.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	cfg, err := loadConfig(*path, lookup, recipes.Builtin())
	if err != nil {
		printConfigError(stderr, err)
		return exitError
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tGROUP\tEVERY\tTIMEOUT\tRECIPE\tURL")
	for _, s := range cfg.Sites {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Slug, s.Name, s.Group, s.Interval, s.Timeout, s.RecipeName, s.RedactedURL)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d sites, config OK\n", len(cfg.Sites))
	return exitOK
}
