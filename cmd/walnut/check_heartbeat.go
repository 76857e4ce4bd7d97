package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/store"
)

// exitUnchecked is walnut check's answer for a heartbeat site whose last
// call could not be read: there is no probe to send, so nothing was checked.
const exitUnchecked = 4

// checkHeartbeat is walnut check for a heartbeat site: there is nothing to
// probe, so it says what Walnut does with the site and, when the database
// (DATABASE_URL, or the local one as serve uses) answers, when the job last
// called. The exit status is that of
// a probe of a probed site: 0 ok, 1 notok (overdue, or never called), 2
// pending, and exitUnchecked when the database could not be read.
func checkHeartbeat(ctx context.Context, stdout, stderr io.Writer, lookup env, s config.Site) int {
	hb := s.Heartbeat
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "site\t%s (heartbeat)\n", s.Name)
	fmt.Fprintf(tw, "probe\tnone: the job calls POST %s with its token\n", s.RedactedURL)
	fmt.Fprintf(tw, "every\t%s\n", shortDuration(hb.Every))
	fmt.Fprintf(tw, "grace\t%s\n", shortDuration(hb.Grace))
	fmt.Fprintf(tw, "rule\tnotok \"no heartbeat for …\" when no call comes within %s\n", shortDuration(hb.Every+hb.Grace))

	// The database serve uses: DATABASE_URL, or the local PostgreSQL
	// under .walnut/ (started for the read if it is not running).
	dbCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, closeDB, err := openDatabase(dbCtx, lookup, newLogger(stderr, lookup))
	if err != nil {
		fmt.Fprintf(tw, "last call\tunknown: %v\n", err)
		return exitUnchecked
	}
	defer closeDB()
	site, err := st.SiteGetBySlug(dbCtx, s.Slug)
	if err != nil {
		fmt.Fprintf(tw, "last call\tunknown: %v (has walnut serve run with this config?)\n", err)
		return exitUnchecked
	}
	last, err := st.HeartbeatLast(dbCtx, site.ID)
	if err != nil {
		fmt.Fprintf(tw, "last call\tunknown: %v\n", err)
		return exitUnchecked
	}
	now := time.Now()
	if last.IsZero() {
		fmt.Fprintln(tw, "last call\tnever")
		fmt.Fprintln(tw, "state\tnotok: no heartbeat yet")
		return 1
	}
	ago := now.Sub(last)
	fmt.Fprintf(tw, "last call\t%s (%s ago)\n", last.UTC().Format(time.RFC3339), shortDuration(ago.Round(time.Second)))
	if ago > hb.Every+hb.Grace {
		fmt.Fprintf(tw, "state\tnotok: %s\n", checker.NoHeartbeatReason(ago))
		return 1
	}
	state := site.State
	line := string(state)
	if site.Reason != "" {
		line += ": " + site.Reason
	}
	fmt.Fprintf(tw, "state\t%s\n", line)
	if state == store.StateUnknown {
		return 0 // called in time, before any verdict was stored
	}
	return stateExit(state)
}
