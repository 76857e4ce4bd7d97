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
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/web"
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
	// What serve would refuse, config check refuses too.
	retention, err := retentionFromEnv(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "walnut config check:", err)
		return exitError
	}
	budget, err := budgetFromEnv(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "walnut config check:", err)
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
	printProjection(stdout, cfg.Sites, retention, budget, strings.TrimSpace(lookup.get("WALNUT_DB_BUDGET")))
	return exitOK
}

// printProjection says how large the database grows for these sites, from
// the bytes per probe and per site-hour the bench measured for the schema,
// and whether it stays under WALNUT_DB_BUDGET.
func printProjection(w io.Writer, sites []config.Site, r store.MaintainerOptions, budget int64, budgetText string) {
	if len(sites) == 0 {
		return
	}
	intervals := make([]time.Duration, len(sites))
	for i, s := range sites {
		intervals[i] = s.Interval
	}
	f := store.CurrentFootprint
	fmt.Fprintf(w, "\nDatabase size, projected (raw probes kept %s, hourly history %s):\n", days(r.RawRetention), days(r.HistoryRetention))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range []struct {
		label string
		age   time.Duration
	}{{"after 30 days", 30 * day}, {"after 90 days", 90 * day}, {"after a year", 365 * day}} {
		fmt.Fprintf(tw, "  %s\t%s\n", p.label, web.FormatBytes(int64(f.Project(intervals, r.RawRetention, r.HistoryRetention, p.age))))
	}
	tw.Flush()
	if budget <= 0 {
		fmt.Fprintln(w, "  no WALNUT_DB_BUDGET set")
		return
	}
	full := f.Project(intervals, r.RawRetention, r.HistoryRetention, max(r.RawRetention, r.HistoryRetention))
	if d, ok := f.DaysToReach(float64(budget), intervals, r.RawRetention, r.HistoryRetention); ok {
		// serve's maintainer keeps the database under the budget by
		// dropping the oldest probes: say when that begins, and what
		// the config would need without it.
		fmt.Fprintf(w, "  exceeds WALNUT_DB_BUDGET %s after %d days (it would reach %s); from then on the oldest probes are dropped to stay under it\n", budgetText, d, web.FormatBytes(int64(full)))
		return
	}
	share := full / float64(budget)
	if share >= web.StorageWarnAt {
		fmt.Fprintf(w, "  fits in WALNUT_DB_BUDGET %s (at most %.0f %% of it, past the 80 %% at which /healthz and the board warn)\n", budgetText, 100*share)
		return
	}
	fmt.Fprintf(w, "  fits in WALNUT_DB_BUDGET %s (at most %.0f %% of it)\n", budgetText, 100*share)
}

const day = 24 * time.Hour

// days is a retention as people set it: "30d", or a duration when it is
// not whole days.
func days(d time.Duration) string {
	if d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return shortDuration(d)
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
