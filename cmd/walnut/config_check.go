package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/walnut-board/walnut/config"
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
	// Flap damping gets a column only when some site's differs from the
	// default, which is what most configs keep.
	flapping := slices.ContainsFunc(cfg.Sites, func(s config.Site) bool { return !s.Flapping.IsDefault() })
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	if flapping {
		fmt.Fprintln(tw, "SLUG\tNAME\tGROUP\tEVERY\tTIMEOUT\tRECIPE\tFLAPPING\tURL")
	} else {
		fmt.Fprintln(tw, "SLUG\tNAME\tGROUP\tEVERY\tTIMEOUT\tRECIPE\tURL")
	}
	for _, s := range cfg.Sites {
		every, timeout, recipe := s.Interval.String(), s.Timeout.String(), s.RecipeName
		switch {
		case s.Heartbeat != nil:
			every, timeout, recipe = shortDuration(s.Heartbeat.Every), "grace "+shortDuration(s.Heartbeat.Grace), "heartbeat"
		case s.Kind == config.KindTCP:
			recipe = "(connect)" // tcp:// and tls:// sites have no recipe
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t", s.Slug, s.Name, s.Group, every, timeout, recipe)
		if flapping {
			fmt.Fprintf(tw, "%s\t", flapSummary(s.Flapping))
		}
		fmt.Fprintf(tw, "%s\n", s.RedactedURL)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d sites, config OK\n", len(cfg.Sites))
	return exitOK
}

// flapSummary is a site's flap damping in a few words: "off", "default", or
// "3 in 10m, settle 5m".
func flapSummary(f config.Flapping) string {
	switch {
	case f.Off:
		return "off"
	case f.IsDefault():
		return "default"
	}
	return fmt.Sprintf("%d in %s, settle %s", f.Changes, shortDuration(f.Within), shortDuration(f.Settle))
}

// shortDuration drops the zero units time.Duration.String ends with:
// "30m" for 30m0s, "1h" for 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
