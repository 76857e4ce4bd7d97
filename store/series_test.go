package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
)

// TestSiteSeriesLastBucket: a series' last bucket may end after to. The
// site's latest verdict, which no probe has ended, fills it as far as it
// holds (a bucket in progress); an earlier verdict counts until to only.
// Both read the same from raw probes and from compacted hours.
func TestSiteSeriesLastBucket(t *testing.T) {
	t.Parallel()
	const m = time.Minute
	b := setupRollups(t, m)
	// ok every minute from 10:00 to 12:58, then notok at 12:59, the latest.
	var ps []store.Probe
	for i := range 180 {
		s := store.StateOK
		if i == 179 {
			s = store.StateNotOK
		}
		ps = append(ps, store.Probe{SiteID: b.site.ID, At: b.at(time.Duration(i) * m), State: s, HTTPStatus: 200})
	}
	if _, err := b.st.WriteProbes(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	site, err := b.st.SiteGetBySlug(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		from, to time.Duration
		want     store.Uptime
	}{
		// 10:00 to 10:10:30 is read to 10:11, in one bucket to 10:15: the
		// probes of 10:11 to 10:14 are not the latest, nor in the window.
		"an old window ends at to": {from: 0, to: 10*m + 30*time.Second, want: store.Uptime{OK: 11 * m}},
		// 12:50 to 12:59:30 is read to 13:00; the bucket ends at 13:05 and
		// the latest verdict holds two intervals, to 13:01.
		"the latest verdict fills the last bucket": {from: 170 * m, to: 179*m + 30*time.Second, want: store.Uptime{OK: 9 * m, NotOK: 2 * m}},
	}
	for _, pass := range []string{"raw", "compacted", "raw dropped"} {
		switch pass {
		case "compacted":
			b.compact(t, b.at(5*time.Hour))
		case "raw dropped":
			b.maintain(t, b.at(72*time.Hour))
		}
		for name, c := range cases {
			got, err := b.st.SiteSeries(context.Background(), site, b.at(c.from), b.at(c.to), 15*m)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Uptime != c.want {
				t.Errorf("%s: %s: %+v, want one bucket with %+v", pass, name, got, c.want)
			}
		}
	}
}
