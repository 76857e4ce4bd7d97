package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/walnut-board/walnut/secret"
	"github.com/walnut-board/walnut/store"
)

// printRosterSyncs says, under walnut roster's days, where a synced roster
// came from and whether it is current: "from PagerDuty, synced 14:05", or
// the failure and "as of" the last good sync.
func printRosterSyncs(ctx context.Context, w io.Writer, st *store.Store) {
	syncs, err := st.RosterSyncs(ctx)
	if err != nil {
		fmt.Fprintln(w, "(cannot read how the PagerDuty sync went:", err.Error()+")")
		return
	}
	for _, s := range syncs {
		name := s.Source
		if s.Source == store.RosterPagerDuty {
			name = "PagerDuty"
		}
		synced := "never"
		if s.SyncedAt != nil {
			synced = s.SyncedAt.In(time.Local).Format("2006-01-02 15:04")
		}
		if s.Error == "" {
			fmt.Fprintf(w, "\nfrom %s, synced %s (it owns %s to %s; a CSV import of those days is cut out)\n",
				name, synced, s.From.Format(time.DateOnly), s.To.Format(time.DateOnly))
			continue
		}
		fmt.Fprintf(w, "\n%s sync failing: the latest attempt (%s) got: %s\nthe roster above is as of %s\n",
			name, s.AttemptedAt.In(time.Local).Format("2006-01-02 15:04"), secret.Guess(s.Error), synced)
	}
}
