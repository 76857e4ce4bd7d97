package store_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// TestStoreBoundary: text and numbers PostgreSQL would refuse are made
// storable where the store writes them, so that no upstream, config or
// roster file can make a write fail.
func TestStoreBoundary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const ok, notok = store.StateOK, store.StateNotOK

	t.Run("ProbeText", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		huge := strings.Repeat("échec ", 20_000) // 140 kB, past pg_notify's 8000 bytes
		batch := b.probes("api", 0, ok, notok, ok, notok, ok)
		reasons := []string{
			"",
			"Vendor: Bad\x00thing",        // a Statuspage description with \u0000
			"caf\xe9 \xff",                // invalid UTF-8
			huge,                          // a huge reason that is a transition's
			"\x1b[2J\x1b[31mred\x07 bell", // terminal escapes
		}
		for i := range batch {
			batch[i].Reason = reasons[i]
		}
		if _, err := b.store.WriteProbes(ctx, batch); err != nil {
			t.Fatalf("write probes with unsafe text: %v", err)
		}
		site, err := b.store.SiteGetBySlug(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		stored, err := b.store.ProbeListBySite(ctx, site, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(batch) {
			t.Fatalf("%d probes stored, want %d", len(stored), len(batch))
		}
		slices.Reverse(stored)
		want := []string{"", "Vendor: Bad\uFFFDthing", "caf\uFFFD \uFFFD", "", "\uFFFD[2J\uFFFD[31mred\uFFFD bell"}
		for i, p := range stored {
			if i == 3 {
				if len(p.Reason) > 1024 || !strings.HasPrefix(p.Reason, "échec échec") || !strings.HasSuffix(p.Reason, "…") {
					t.Errorf("huge reason stored as %d bytes ending %q", len(p.Reason), p.Reason[max(len(p.Reason)-20, 0):])
				}
				continue
			}
			if p.Reason != want[i] {
				t.Errorf("probe %d: reason %q, want %q", i, p.Reason, want[i])
			}
		}
		trs, err := b.store.TransitionListBySite(ctx, b.ids["api"], 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(trs) != 5 || trs[1].Reason != stored[3].Reason || trs[3].Reason != "Vendor: Bad\uFFFDthing" {
			t.Fatalf("transitions = %+v", trs)
		}
	})

	// A latency past the column's 35 minutes is stored as the most it
	// holds, and the rollups take it in.
	t.Run("HourLongLatency", func(t *testing.T) {
		t.Parallel()
		b := setup(t, store.SiteSpec{Slug: "slow", Name: "Slow", URL: "https://slow/", Interval: 2 * time.Hour})
		p := store.Probe{
			SiteID: b.ids["slow"], At: b.base, State: notok, HTTPStatus: 504,
			Latency: 90 * time.Minute, TTFB: 89 * time.Minute, DNS: time.Hour, Connect: time.Hour, TLS: time.Hour,
			Reason: "HTTP 504",
		}
		next := p
		next.At, next.State, next.Latency = p.At.Add(2*time.Hour), ok, 2*time.Hour
		if _, err := b.store.WriteProbes(ctx, []store.Probe{p, next}); err != nil {
			t.Fatalf("write hour-long probes: %v", err)
		}
		site, _ := b.store.SiteGetBySlug(ctx, "slow")
		stored, err := b.store.ProbeListBySite(ctx, site, 10)
		if err != nil {
			t.Fatal(err)
		}
		const most = (1<<31 - 1) * time.Microsecond
		if len(stored) != 2 || stored[1].Latency != most || stored[1].TTFB != most || stored[0].Latency != most {
			t.Fatalf("stored = %+v, want latencies clamped to %v", stored, most)
		}
		u, err := b.store.SiteUptime(ctx, site, b.base, b.base.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if u.NotOK != 2*time.Hour {
			t.Fatalf("uptime = %+v, want 2h notok", u)
		}
	})

	// Intervals past what the int4 column holds, or what the rollups can
	// double in int4, are stored as the most they can be.
	t.Run("LongIntervals", func(t *testing.T) {
		t.Parallel()
		b := setup(t,
			store.SiteSpec{Slug: "fortnight", Name: "Fortnight", URL: "https://f/", Interval: 13 * 24 * time.Hour},
			store.SiteSpec{Slug: "monthly", Name: "Monthly", URL: "https://m/", Interval: 30 * 24 * time.Hour})
		for _, slug := range []string{"fortnight", "monthly"} {
			batch := []store.Probe{
				{SiteID: b.ids[slug], At: b.base, State: ok, HTTPStatus: 200},
				{SiteID: b.ids[slug], At: b.base.Add(24 * time.Hour), State: notok, HTTPStatus: 500},
			}
			if _, err := b.store.WriteProbes(ctx, batch); err != nil {
				t.Fatalf("%s: write probes: %v", slug, err)
			}
			site, err := b.store.SiteGetBySlug(ctx, slug)
			if err != nil {
				t.Fatal(err)
			}
			if site.Interval < 12*24*time.Hour || site.State != notok {
				t.Fatalf("%s: interval %v, state %s", slug, site.Interval, site.State)
			}
			u, err := b.store.SiteUptime(ctx, site, b.base, b.base.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if u.OK != 24*time.Hour {
				t.Fatalf("%s: uptime %+v, want a day ok", slug, u)
			}
		}
	})

	// A confirm past int4 is the most it can be, not whatever its low 32
	// bits say.
	t.Run("HugeConfirm", func(t *testing.T) {
		t.Parallel()
		b := setup(t, store.SiteSpec{Slug: "api", Name: "API", URL: "https://api/", Interval: time.Minute, Confirm: 1<<32 + 1})
		if _, err := b.store.WriteProbes(ctx, b.probes("api", 0, notok, notok, notok)); err != nil {
			t.Fatal(err)
		}
		if site, _ := b.store.SiteGetBySlug(ctx, "api"); site.State != store.StateUnknown {
			t.Fatalf("state after 3 probes = %s, want unknown until 2^31-1 agree", site.State)
		}
	})

	t.Run("SiteText", func(t *testing.T) {
		t.Parallel()
		b := setup(t, store.SiteSpec{
			Slug: "vendor", Name: "Ven\x00dor\nInc", Group: "Third\x1bparties", URL: "https://vendor.example/\xff",
			Interval: time.Minute,
		})
		site, err := b.store.SiteGetBySlug(ctx, "vendor")
		if err != nil {
			t.Fatal(err)
		}
		if site.Name != "Ven\uFFFDdor Inc" || site.Group != "Third\uFFFDparties" || site.URL != "https://vendor.example/\uFFFD" {
			t.Fatalf("stored %q %q %q", site.Name, site.Group, site.URL)
		}
		// A slug is a key: one that cannot be stored as it is is an error
		// that says so, not a raw database error.
		_, err = b.store.SiteSync(ctx, []store.SiteSpec{{Slug: "bad\x00slug", Name: "Bad", URL: "https://x/", Interval: time.Minute}})
		if err == nil || !strings.Contains(err.Error(), "a slug must be printable") {
			t.Fatalf("sync a slug holding NUL: %v", err)
		}
	})

	t.Run("RosterText", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		if err := b.store.RosterReplace(ctx, []store.Shift{{Start: day, End: day, Person: "Ada\x00Lovelace\nthe first", Contact: "@ada\xff"}}); err != nil {
			t.Fatalf("replace roster: %v", err)
		}
		shifts, err := b.store.RosterBetween(ctx, day, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(shifts) != 1 || shifts[0].Person != "Ada\uFFFDLovelace the first" || shifts[0].Contact != "@ada\uFFFD" {
			t.Fatalf("roster = %+v", shifts)
		}
	})

	// A failed roster sync's error quotes PagerDuty's answer: a NUL in it
	// (an API message holding \u0000) and a megabyte of it are recorded.
	t.Run("RosterSyncError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, reason := range []string{"HTTP 500: Bad\x00thing \xff", strings.Repeat("échec ", 20_000)} {
			if err := b.store.RosterSyncFailed(ctx, store.RosterPagerDuty, b.base, reason); err != nil {
				t.Fatalf("record a failed sync: %v", err)
			}
			syncs, err := b.store.RosterSyncs(ctx)
			if err != nil || len(syncs) != 1 {
				t.Fatalf("syncs = %+v, %v", syncs, err)
			}
			got := syncs[0].Error
			if strings.HasPrefix(reason, "HTTP") && got != "HTTP 500: Bad\uFFFDthing \uFFFD" {
				t.Errorf("error stored as %q", got)
			}
			if len(got) > 1024 {
				t.Errorf("error stored as %d bytes", len(got))
			}
		}
	})

	t.Run("SlackThreadText", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		th, err := b.store.SlackThreadStart(ctx, "api", store.SlackThread{Channel: "C1", TS: "1.2", DownSince: b.base, Reason: "Bad\x00thing"})
		if err != nil {
			t.Fatalf("start slack thread: %v", err)
		}
		got, err := b.store.SlackThreadOpen(ctx, "api")
		if err != nil || got.ID != th.ID || got.Reason != "Bad\uFFFDthing" {
			t.Fatalf("open thread = %+v, %v", got, err)
		}
	})
}

// TestWriterRejectedProbe: a probe the database refuses, whatever the
// reason, costs no other probe of its batch; its site shows a notok
// verdict saying so, the transitions around it are recorded in order, and
// it is logged with its site and counted.
func TestWriterRejectedProbe(t *testing.T) {
	t.Parallel()
	const ok, notok = store.StateOK, store.StateNotOK
	healthy := []string{"a", "b", "c", "d", "e"}
	specs := []store.SiteSpec{{Slug: "vendor", Name: "Vendor", URL: "https://vendor/", Interval: time.Minute}}
	for _, slug := range healthy {
		specs = append(specs, store.SiteSpec{Slug: slug, Name: slug, URL: "https://" + slug + "/", Interval: time.Minute})
	}
	b := setup(t, specs...)

	// Each site flips ok, notok, ok, ...; vendor's third probe carries a
	// state the database refuses (an enum value that does not exist),
	// which no cleaning of text can mend.
	var batch, want []store.Probe
	for minute := range 5 {
		for _, slug := range append([]string{"vendor"}, healthy...) {
			p := b.probe(slug, minute, []store.State{ok, notok}[minute%2])
			if slug == "vendor" {
				p.State = ok
				if minute == 2 {
					p.State = "bogus"
					batch = append(batch, p)
					p.State = notok
					want = append(want, p)
					continue
				}
			}
			batch = append(batch, p)
			want = append(want, p)
		}
	}

	var logs storetest.Buffer
	clk := storetest.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	w := store.NewWriter(b.store, slog.New(slog.NewTextHandler(&logs, nil)), store.WriterOptions{
		FlushInterval: time.Hour, BatchSize: len(batch), Now: clk.Now,
	})
	stop := runWriter(t, w)
	for _, p := range batch {
		w.Add(p)
	}
	storetest.WaitFor(t, "the batch written", func() bool { return w.Written() == uint64(len(batch)) })
	stop()

	if w.Rejected() != 1 || w.Dropped() != 0 || w.LastError() != nil {
		t.Fatalf("rejected %d, dropped %d, last error %v; want 1, 0, nil", w.Rejected(), w.Dropped(), w.LastError())
	}
	checkStored(t, b, want, map[string]int{"vendor": 1, "a": 1, "b": 1, "c": 1, "d": 1, "e": 1})
	site, err := b.store.SiteGetBySlug(context.Background(), "vendor")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := b.store.ProbeListBySite(context.Background(), site, 10)
	if err != nil {
		t.Fatal(err)
	}
	const reason = `probe could not be stored: invalid input value for enum state: "bogus"`
	if p := stored[2]; p.State != notok || p.Reason != reason || p.HTTPStatus != 0 || p.Latency != 0 {
		t.Fatalf("in place of the refused probe: %+v; want notok %q and nothing else", p, reason)
	}

	out := logs.String()
	if !strings.Contains(out, "probe rejected by the database") || !strings.Contains(out, "site=vendor") {
		t.Fatalf("the rejection is not logged with its site:\n%s", out)
	}
	if strings.Contains(out, "database writes resumed") {
		t.Fatalf("a rejection was followed by \"database writes resumed\":\n%s", out)
	}

	losses := w.Losses(clk.Now().Add(-10 * time.Minute))
	if losses.Rejected != 1 || losses.Dropped != 0 || !strings.HasPrefix(losses.Last, `vendor: invalid input value for enum state`) {
		t.Fatalf("losses in the last 10 minutes = %+v", losses)
	}
	clk.Add(11 * time.Minute)
	if losses := w.Losses(clk.Now().Add(-10 * time.Minute)); losses != (store.Losses{}) {
		t.Fatalf("losses 11 minutes later = %+v, want none", losses)
	}
}

// TestWriterProbeAndVerdictRefused: when even the verdict in a refused
// probe's place cannot be stored, the probe is dropped and counted, and the
// rest of the batch lands.
func TestWriterProbeAndVerdictRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	batch := b.probes("api", 0, store.StateOK, store.StateOK, store.StateOK)
	// Past PostgreSQL's last timestamp: no row at that time can be stored.
	batch[1].At = time.Date(300_000, 1, 1, 0, 0, 0, 0, time.UTC)
	batch[1].State = "bogus"
	w := store.NewWriter(b.store, discardLogger(), store.WriterOptions{FlushInterval: time.Hour, BatchSize: len(batch)})
	stop := runWriter(t, w)
	for _, p := range batch {
		w.Add(p)
	}
	storetest.WaitFor(t, "the batch handled", func() bool { return w.Written()+w.Dropped() == uint64(len(batch)) })
	stop()
	if w.Written() != 2 || w.Dropped() != 1 || w.Rejected() != 1 {
		t.Fatalf("written %d, dropped %d, rejected %d; want 2, 1, 1", w.Written(), w.Dropped(), w.Rejected())
	}
	var n int
	if err := b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM probes`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d probes stored (%v), want 2", n, err)
	}
}

// TestWriterStatementRefused: when the database refuses the writer's
// statements rather than a probe's data (here a table is missing, as after
// a botched migration), no probe is to blame: the batch is dropped with one
// line, not split into one refusal per probe, and it is an outage on
// /healthz (LastError), not a rejection.
func TestWriterStatementRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.store.Pool().Exec(context.Background(), `ALTER TABLE site_state RENAME TO site_state_gone`); err != nil {
		t.Fatal(err)
	}
	var logs storetest.Buffer
	batch := b.probes("api", 0, store.StateOK, store.StateOK, store.StateOK, store.StateOK)
	w := store.NewWriter(b.store, slog.New(slog.NewTextHandler(&logs, nil)), store.WriterOptions{FlushInterval: time.Hour, BatchSize: len(batch)})
	stop := runWriter(t, w)
	for _, p := range batch {
		w.Add(p)
	}
	storetest.WaitFor(t, "the batch dropped", func() bool { return w.Dropped() == uint64(len(batch)) })
	if w.Rejected() != 0 || w.LastError() == nil || w.Written() != 0 {
		t.Fatalf("rejected %d, last error %v, written %d; want 0, an error, 0", w.Rejected(), w.LastError(), w.Written())
	}
	stop()
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d error lines for one batch, want 1:\n%s", n, logs.String())
	}
}
