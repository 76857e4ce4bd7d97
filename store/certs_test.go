package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/walnut-board/walnut/migrations"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

func TestSiteCert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(storetest.Pool(t))
	ids, err := st.SiteSync(ctx, []store.SiteSpec{
		{Slug: "web", Name: "Web", URL: "https://web.example.com/", Interval: time.Minute},
		{Slug: "quiet", Name: "Quiet", URL: "https://quiet.example.com/", Interval: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.NotifyRoutesSync(ctx, []store.NotifyRoute{
		{Slug: "web", Sinks: []string{"pagerduty", "slack"}, Severity: "critical"},
		{Slug: "quiet", Sinks: []string{"pagerduty"}, Severity: "critical"},
	}); err != nil {
		t.Fatal(err)
	}
	web := ids["web"]
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	expires := t0.Add(5 * 24 * time.Hour)
	warnFrom := expires.Add(-14 * 24 * time.Hour)
	a := store.Cert{ExpiresAt: expires, Issuer: "Test CA", Subject: "web.example.com", Fingerprint: "aaaa", Verified: true, WarnFrom: &warnFrom}

	if _, err := st.SiteCert(ctx, web); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before any: err = %v, want ErrNotFound", err)
	}
	if err := st.SiteCertSave(ctx, web, a, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.SiteCertSave(ctx, web, a, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := st.SiteGetBySlug(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Cert; c == nil || !c.ExpiresAt.Equal(expires) || c.Issuer != "Test CA" || !c.FirstSeen.Equal(t0) || !c.LastSeen.Equal(t0.Add(time.Hour)) || c.WarnFrom == nil || !c.WarnFrom.Equal(warnFrom) {
		t.Errorf("cert = %+v, want the same certificate first seen at t0, last an hour later", got.Cert)
	}
	sites, err := st.SiteListActive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sites[0].Cert == nil || sites[0].Cert.Fingerprint != "aaaa" || sites[1].Cert != nil {
		t.Errorf("listed certs: %+v, %+v", sites[0].Cert, sites[1].Cert)
	}

	warn := func(id int32, fp string, days int, want bool) {
		t.Helper()
		sent, err := st.SiteCertWarn(ctx, id, fp, days)
		if err != nil {
			t.Fatal(err)
		}
		if sent != want {
			t.Errorf("warn %s at %d days: sent %v, want %v", fp, days, sent, want)
		}
	}
	warn(web, "aaaa", 7, true)
	warn(web, "aaaa", 7, false)  // once per threshold: a restart asks again
	warn(web, "aaaa", 14, false) // a larger threshold is behind it
	warn(web, "bbbb", 3, false)  // not the recorded certificate
	warn(web, "aaaa", 3, true)

	// A renewed certificate starts afresh.
	b := a
	b.Fingerprint, b.ExpiresAt = "bbbb", expires.Add(90*24*time.Hour)
	if err := st.SiteCertSave(ctx, web, b, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.SiteCert(ctx, web); !c.FirstSeen.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("renewed cert first seen %v, want when it was", c.FirstSeen)
	}
	warn(web, "bbbb", 7, true)

	// A hostile server's names are stored, made readable.
	odd := b
	odd.Fingerprint, odd.Issuer = "cccc", "Evil\x00CA\xff"
	if err := st.SiteCertSave(ctx, ids["quiet"], odd, t0); err != nil {
		t.Fatalf("a certificate with a NUL in its issuer: %v", err)
	}
	if c, _ := st.SiteCert(ctx, ids["quiet"]); c.Issuer != "Evil\uFFFDCA\uFFFD" {
		t.Errorf("issuer stored as %q", c.Issuer)
	}

	// A site without Slack queues nothing.
	if err := st.SiteCertSave(ctx, ids["quiet"], a, t0); err != nil {
		t.Fatal(err)
	}
	warn(ids["quiet"], "aaaa", 7, false)

	// The notices wait in Slack's stream, in order, after no transition.
	s, err := st.NotifyStreamOpen(ctx, web, "slack")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx) //nolint:errcheck // test
	var days []int
	for {
		n, err := s.Next(ctx)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n.From != store.StateUnknown || n.To != store.StateUnknown || n.CertExpiresAt.IsZero() {
			t.Errorf("notice = %+v", n)
		}
		days = append(days, n.CertDays)
		if err := s.Done(ctx, n.ID, "sent", ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(days) != 3 || days[0] != 7 || days[1] != 3 || days[2] != 7 {
		t.Errorf("notices for days %v, want [7 3 7]", days)
	}
}

// A database holding notifications from before certificates takes the
// migration and keeps them.
func TestMigrateCertsKeepsNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	if err := store.New(pool).MigrateDownToZero(ctx); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO sites (slug, name, url, interval_ms) VALUES ('api', 'API', 'https://api.example.com/', 60000)`,
		`INSERT INTO transitions (site_id, at, from_state, to_state, reason) SELECT id, now(), 'ok', 'notok', 'HTTP 503' FROM sites`,
		`INSERT INTO notifications (site_id, sink, transition_id) SELECT site_id, 'slack', id FROM transitions`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := store.New(pool).Migrate(ctx, discardLogger()); err != nil {
		t.Fatal(err)
	}
	var id int32
	if err := pool.QueryRow(ctx, `SELECT id FROM sites`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	s, err := st.NotifyStreamOpen(ctx, id, "slack")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx) //nolint:errcheck // test
	n, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.From != store.StateOK || n.To != store.StateNotOK || n.Reason != "HTTP 503" || n.CertDays != 0 {
		t.Errorf("old notice after the migration = %+v", n)
	}
	// Neither half of a notice alone: a transition or a certificate.
	if _, err := pool.Exec(ctx, `INSERT INTO notifications (site_id, sink) VALUES ($1, 'slack')`, id); err == nil {
		t.Error("a notice about nothing was accepted")
	}
}
