package main

// The history mode: how much disk and WAL a long history costs.
//
//	go run ./bench -history -sites 100 -interval 30s -days 90
//
// It writes synthetic probes for N sites, K days back to now, through the
// write path serve uses (store.WriteProbes, the call behind store.Writer),
// runs serve's maintenance between batches with the clock of the history
// (partitions, compaction of finished hours, retention), then VACUUM ANALYZEs and
// prints the database's size, each table's, and bytes and WAL per probe.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/dbstat"
	"github.com/walnut-board/walnut/store/pglocal"
)

// historyOptions are the history mode's flags.
type historyOptions struct {
	on           bool
	sites        int
	interval     time.Duration
	days         int
	batch        int
	writers      int
	rawRetention time.Duration
	seed         uint64
}

// historyFlags registers the history mode's flags on fs.
func historyFlags(fs *flag.FlagSet) *historyOptions {
	o := &historyOptions{}
	fs.BoolVar(&o.on, "history", false, "history mode: write -days of synthetic history for -sites sites into $DATABASE_URL (or a throwaway cluster) and measure its size")
	fs.IntVar(&o.sites, "sites", 100, "history mode: number of sites")
	fs.DurationVar(&o.interval, "interval", 30*time.Second, "history mode: probe interval of every site")
	fs.IntVar(&o.days, "days", 7, "history mode: days of history, ending now")
	fs.IntVar(&o.batch, "batch", 1000, "history mode: probes per write, as the writer's BatchSize (serve writes smaller batches when probes trickle in)")
	fs.IntVar(&o.writers, "writers", 2, "history mode: concurrent writes, each for its own share of the sites (as instances sharing a database)")
	fs.DurationVar(&o.rawRetention, "raw-retention", 90*24*time.Hour, "history mode: WALNUT_RAW_RETENTION")
	fs.Uint64Var(&o.seed, "seed", 1, "history mode: seed of the synthetic history")
	return o
}

// historyResult is what a history run measured.
type historyResult struct {
	database               string // where it wrote
	commit                 string
	took                   time.Duration
	probes                 int64
	states                 map[store.State]int64
	transport              int64 // notok probes without a response
	baseline               int64 // database size before any probe
	size                   int64 // after the run and VACUUM ANALYZE
	dayOneProbes, dayOne   int64 // probes and size after the first day, VACUUMed
	wal                    int64 // bytes of WAL written by the writes and maintenance
	tables                 []dbstat.Table
	rawRetention, interval time.Duration
	sites, days, batch     int
}

func runHistory(o *historyOptions, ephemeral, keep bool) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.sites < 1 || o.days < 1 || o.interval < time.Second || o.batch < 1 || o.writers < 1 {
		fatal(errors.New("history: -sites, -days, -batch and -writers must be positive and -interval at least 1s"))
	}
	res, err := history(ctx, o, ephemeral, keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: history:", err)
		return 1
	}
	printHistory(os.Stdout, res)
	return 0
}

func history(ctx context.Context, o *historyOptions, ephemeral, keep bool) (historyResult, error) {
	res := historyResult{
		states: map[store.State]int64{}, commit: gitCommit(),
		rawRetention: o.rawRetention, interval: o.interval, sites: o.sites, days: o.days, batch: o.batch,
	}
	url := os.Getenv("DATABASE_URL")
	if url != "" {
		res.database = "$DATABASE_URL"
	} else {
		tmp, err := os.MkdirTemp("", "wbh")
		if err != nil {
			return res, err
		}
		// PostgreSQL runs as the postgres user when we are root.
		if err := os.Chmod(tmp, 0o755); err != nil {
			return res, err
		}
		if keep {
			fmt.Fprintln(os.Stderr, "bench: keeping the cluster in", tmp)
		} else {
			defer os.RemoveAll(tmp)
		}
		pgctx, pgcancel := context.WithCancel(context.WithoutCancel(ctx))
		defer pgcancel()
		cluster, err := pglocal.Start(pgctx, pglocal.Options{Dir: filepath.Join(tmp, "pg"), Ephemeral: ephemeral})
		if err != nil {
			return res, err
		}
		defer cluster.Stop()
		if err := cluster.CreateDatabase(ctx, "walnut"); err != nil {
			return res, err
		}
		url = cluster.URL("walnut")
		res.database = "a throwaway local cluster (store/pglocal, fsync on)"
		if ephemeral {
			res.database = "a throwaway local cluster (store/pglocal, -ephemeral: no fsync, no full-page writes)"
		}
	}
	fmt.Fprintln(os.Stderr, "bench: history into", res.database)

	// The store for what Walnut does, a pool of its own for what the bench
	// measures from outside (sizes, WAL), as psql would.
	st, err := store.Open(ctx, withMaxConns(url, o.writers+2))
	if err != nil {
		return res, err
	}
	defer st.Close()
	pool, err := dbstat.Open(ctx, url)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	if err := st.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		return res, err
	}
	existing, err := pool.Sites(ctx)
	if err != nil {
		return res, err
	}
	if existing > 0 {
		return res, fmt.Errorf("the database already has %d sites: give the history mode an empty database, its sizes are the whole database's", existing)
	}
	specs := make([]store.SiteSpec, o.sites)
	for i := range specs {
		specs[i] = store.SiteSpec{
			Slug: fmt.Sprintf("h%05d", i), Name: fmt.Sprintf("History %d", i), Group: fmt.Sprintf("Group %d", i%10),
			URL: fmt.Sprintf("https://h%05d.example.com/healthz", i), Interval: o.interval, Confirm: 1,
		}
	}
	ids, err := st.SiteSync(ctx, specs)
	if err != nil {
		return res, err
	}

	now := time.Now().UTC()
	start := now.Add(-time.Duration(o.days) * 24 * time.Hour)
	gens := make([]*siteGen, o.sites)
	for i, sp := range specs {
		gens[i] = newSiteGen(ids[sp.Slug], i, o.interval, start, o.seed)
	}
	m := &maintenance{}
	m.m = store.NewMaintainer(st, slog.New(slog.DiscardHandler), store.MaintainerOptions{
		RawRetention: o.rawRetention, Now: func() time.Time { return m.now },
	})
	// As serve's migrate step: partitions from the day before.
	if err := m.run(ctx, start, true); err != nil {
		return res, err
	}
	if res.baseline, err = vacuumSize(ctx, pool); err != nil {
		return res, err
	}
	wal0, err := pool.WALPosition(ctx)
	if err != nil {
		return res, err
	}

	// Each window holds about -batch probes for each writer.
	window := time.Duration(float64(o.batch*o.writers) / float64(o.sites) * float64(o.interval))
	window = max(window, 100*time.Millisecond)
	shares := make([][]*siteGen, o.writers)
	for i, g := range gens {
		shares[i%o.writers] = append(shares[i%o.writers], g)
	}
	began := time.Now()
	lastReport := began
	day := start.Add(24 * time.Hour)
	var vacuumWAL int64 // the measuring VACUUM's, not the history's
	for at := start; at.Before(now); {
		end := minT(at.Add(window), now)
		var wg sync.WaitGroup
		errs := make([]error, o.writers)
		counts := make([]batchCount, o.writers)
		for w, share := range shares {
			wg.Go(func() {
				batch := make([]store.Probe, 0, o.batch*2)
				for _, g := range share {
					batch = g.until(end, batch)
				}
				// The writer takes probes as they come: in time order.
				slices.SortFunc(batch, func(a, b store.Probe) int { return a.At.Compare(b.At) })
				counts[w].add(batch)
				if _, err := st.WriteProbes(ctx, batch); err != nil {
					errs[w] = err
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return res, err
		}
		for _, c := range counts {
			res.probes += c.probes
			res.transport += c.transport
			for s, n := range c.states {
				res.states[s] += n
			}
		}
		if err := m.run(ctx, end, false); err != nil {
			return res, err
		}
		at = end
		if !at.Before(day) || !at.Before(now) {
			if res.dayOne == 0 && o.days > 1 {
				// The footprint of one day of fresh history: what the
				// rest of the run adds to it is older history.
				v0, err := pool.WALPosition(ctx)
				if err != nil {
					return res, err
				}
				if res.dayOne, err = vacuumSize(ctx, pool); err != nil {
					return res, err
				}
				v1, err := pool.WALPosition(ctx)
				if err != nil {
					return res, err
				}
				vacuumWAL = v1 - v0
				res.dayOneProbes = res.probes
			}
			day = day.Add(24 * time.Hour)
		}
		if time.Since(lastReport) > 10*time.Second || !at.Before(now) {
			lastReport = time.Now()
			el := time.Since(began)
			fmt.Fprintf(os.Stderr, "bench: history at %s: %d probes in %s (%.0f/s)\n",
				at.Format("2006-01-02 15:04"), res.probes, el.Round(time.Second), float64(res.probes)/el.Seconds())
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	wal1, err := pool.WALPosition(ctx)
	if err != nil {
		return res, err
	}
	res.wal = wal1 - wal0 - vacuumWAL
	res.took = time.Since(began)
	if res.size, err = vacuumSize(ctx, pool); err != nil {
		return res, err
	}
	res.tables, err = pool.Tables(ctx)
	return res, err
}

type batchCount struct {
	probes, transport int64
	states            map[store.State]int64
}

func (c *batchCount) add(batch []store.Probe) {
	if c.states == nil {
		c.states = map[store.State]int64{}
	}
	for _, p := range batch {
		c.probes++
		c.states[p.State]++
		if p.State == store.StateNotOK && p.HTTPStatus == 0 {
			c.transport++
		}
	}
}

// maintenance is what serve runs beside the writer, on the history's
// clock rather than the wall's: a pass of store's Maintainer (partitions,
// compaction of finished hours, raw days dropped, retention) at the start
// and then every hour of history. serve makes a pass a minute; an hour
// apart changes nothing but when the work is done.
type maintenance struct {
	m         *store.Maintainer
	now, last time.Time
}

func (m *maintenance) run(ctx context.Context, now time.Time, first bool) error {
	m.now = now
	if !first && now.Sub(m.last) < time.Hour {
		return nil
	}
	m.last = now
	_, err := m.m.RunOnce(ctx)
	return err
}

// siteGen makes one site's probes: spans of ok, notok and pending of
// varied lengths, latencies around the site's own, on the site's phase of
// the interval.
type siteGen struct {
	id       int32
	interval time.Duration
	rng      *rand.Rand
	next     time.Time // the next probe's scheduled time
	ci       bool      // a build: pending while one runs

	base       float64 // median latency, ms
	tls        bool
	state      store.State
	left       int // probes left in the current span
	reason     string
	httpStatus int
}

func newSiteGen(id int32, i int, interval time.Duration, start time.Time, seed uint64) *siteGen {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	g := &siteGen{
		id: id, interval: interval, rng: rng,
		ci:   i%10 == 9,
		base: math.Min(math.Max(80*math.Exp(rng.NormFloat64()*0.8), 5), 3000),
		tls:  i%7 != 0,
	}
	// The site's phase of the wall clock, as the checker keeps it.
	phase := time.Duration(rng.Int64N(int64(interval)))
	g.next = start.Truncate(interval).Add(phase)
	for g.next.Before(start) {
		g.next = g.next.Add(interval)
	}
	g.span(store.StateOK)
	return g
}

// span starts a span of state with a length drawn for it, in probes.
func (g *siteGen) span(state store.State) {
	perMin := float64(time.Minute) / float64(g.interval)
	probes := func(minutes float64) int { return max(1, int(minutes*perMin)) }
	g.state, g.reason, g.httpStatus = state, "", 200
	switch state {
	case store.StateOK:
		mean := 36 * 60.0 // a day and a half between incidents
		if g.ci {
			mean = 90 // builds every hour and a half
		}
		g.left = probes(g.rng.ExpFloat64() * mean)
	case store.StatePending:
		if g.ci {
			g.reason = "workflow running"
			g.left = probes(3 + g.rng.ExpFloat64()*9)
		} else {
			g.reason = "maintenance"
			g.left = probes(30 + g.rng.ExpFloat64()*60)
		}
	case store.StateNotOK:
		minutes := 1 + g.rng.ExpFloat64()*8
		if g.rng.IntN(5) == 0 {
			minutes = 30 + g.rng.ExpFloat64()*180 // a long outage
		}
		g.left = probes(minutes)
		switch k := g.rng.IntN(10); {
		case g.ci:
			g.reason = "workflow build failed"
		case k < 3:
			g.httpStatus, g.reason = 503, "HTTP 503 Service Unavailable"
		case k < 5:
			g.httpStatus, g.reason = 502, "HTTP 502 Bad Gateway"
		case k < 6:
			g.httpStatus, g.reason = 500, "HTTP 500 Internal Server Error"
		case k < 7:
			g.httpStatus, g.reason = 0, "timed out after 10s waiting for the response"
		case k < 8:
			g.httpStatus, g.reason = 0, "connection refused"
		case k < 9:
			g.httpStatus, g.reason = 0, "DNS lookup failed: no such host"
		default:
			g.httpStatus, g.reason = 0, "TLS handshake failed: x509: certificate has expired or is not yet valid"
		}
	}
}

// nextSpan picks what follows the current span.
func (g *siteGen) nextSpan() {
	switch {
	case g.state != store.StateOK:
		// A failed build stays red until the next one runs.
		if g.ci && g.state == store.StatePending && g.rng.IntN(8) == 0 {
			g.span(store.StateNotOK)
			return
		}
		g.span(store.StateOK)
	case g.ci:
		g.span(store.StatePending)
	case g.rng.IntN(15) == 0:
		g.span(store.StatePending)
	default:
		g.span(store.StateNotOK)
	}
}

// until appends the site's probes scheduled before end.
func (g *siteGen) until(end time.Time, out []store.Probe) []store.Probe {
	for g.next.Before(end) {
		out = append(out, g.probe())
		g.next = g.next.Add(g.interval)
		if g.left--; g.left <= 0 {
			g.nextSpan()
		}
	}
	return out
}

func (g *siteGen) probe() store.Probe {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	// Runners start a little after their tick.
	p := store.Probe{SiteID: g.id, At: g.next.Add(time.Duration(g.rng.Int64N(int64(20 * time.Millisecond)))), State: g.state, HTTPStatus: g.httpStatus, Reason: g.reason}
	if g.state == store.StateNotOK && g.httpStatus == 0 {
		switch g.reason {
		case "timed out after 10s waiting for the response":
			p.Latency = 10 * time.Second
			p.DNS, p.Connect = ms(2+g.rng.Float64()*10), ms(10+g.rng.Float64()*30)
		case "connection refused":
			p.DNS, p.Connect = ms(2+g.rng.Float64()*10), ms(1+g.rng.Float64()*5)
			p.Latency = p.DNS + p.Connect
		default:
			p.Latency = ms(5 + g.rng.Float64()*50)
		}
		return p
	}
	lat := g.base * math.Exp(g.rng.NormFloat64()*0.3)
	if g.rng.IntN(100) == 0 {
		lat *= 3 + g.rng.Float64()*5 // a slow one
	}
	if g.state == store.StateNotOK && g.httpStatus >= 500 {
		lat *= 0.2 + g.rng.Float64()*2
	}
	p.DNS = ms(1 + g.rng.Float64()*lat*0.05)
	p.Connect = ms(2 + g.rng.Float64()*lat*0.1)
	if g.tls {
		p.TLS = ms(5 + g.rng.Float64()*lat*0.2)
	}
	wait := ms(lat)
	p.TTFB = p.DNS + p.Connect + p.TLS + wait
	p.Latency = p.TTFB + ms(g.rng.Float64()*lat*0.1)
	return p
}

// vacuumSize VACUUM ANALYZEs the database and returns its size: what the
// host bills for, free space inside tables included.
func vacuumSize(ctx context.Context, pool *dbstat.DB) (int64, error) {
	if err := pool.Vacuum(ctx); err != nil {
		return 0, err
	}
	return pool.Size(ctx)
}

func printHistory(w io.Writer, r historyResult) {
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	fmt.Fprintf(w, "history: %d sites × %s × %d days, raw retention %s, %d-probe batches, commit %s\n",
		r.sites, r.interval, r.days, shortDays(r.rawRetention), r.batch, r.commit)
	fmt.Fprintf(w, "written into %s in %s (%.0f probes/s)\n", r.database, r.took.Round(time.Second), float64(r.probes)/r.took.Seconds())
	fmt.Fprintf(w, "probes: %d (ok %d, notok %d of which %d without a response, pending %d)\n",
		r.probes, r.states[store.StateOK], r.states[store.StateNotOK], r.transport, r.states[store.StatePending])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tsize\t")
	for _, t := range r.tables {
		if t.Bytes >= 1<<20 {
			fmt.Fprintf(tw, "%s\t%s\t\n", t.Name, mb(t.Bytes))
		}
	}
	fmt.Fprintf(tw, "(the rest: smaller tables, catalogs)\t%s\t\n", mb(r.size-sumTables(r.tables, 1<<20)))
	tw.Flush()
	fmt.Fprintf(w, "database: %s (%s before the first probe)\n", mb(r.size), mb(r.baseline))
	if r.probes > 0 {
		fmt.Fprintf(w, "bytes per probe: %.1f overall ((size − empty) / probes)\n", float64(r.size-r.baseline)/float64(r.probes))
		if r.dayOneProbes > 0 && r.probes > r.dayOneProbes {
			fmt.Fprintf(w, "bytes per probe older than a day: %.1f ((size − size after day one) / probes since; day one: %s for %d probes)\n",
				float64(r.size-r.dayOne)/float64(r.probes-r.dayOneProbes), mb(r.dayOne-r.baseline), r.dayOneProbes)
		}
		fmt.Fprintf(w, "WAL: %s, %.0f B per probe (writes and maintenance, before the final VACUUM)\n", mb(r.wal), float64(r.wal)/float64(r.probes))
		perSiteDay := float64(24*time.Hour) / float64(r.interval)
		fmt.Fprintf(w, "probes per site per day: %.0f\n", perSiteDay)
	}
}

// sumTables is the size of the tables of at least min bytes.
func sumTables(ts []dbstat.Table, least int64) int64 {
	var n int64
	for _, t := range ts {
		if t.Bytes >= least {
			n += t.Bytes
		}
	}
	return n
}

func shortDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func minT(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// withMaxConns adds pool_max_conns to a connection string, URL or
// keyword form.
func withMaxConns(url string, n int) string {
	param := fmt.Sprintf("pool_max_conns=%d", n)
	switch {
	case !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://"):
		return url + " " + param
	case strings.Contains(url, "?"):
		return url + "&" + param
	}
	return url + "?" + param
}

// gitCommit names the commit the harness runs from, for the record.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if dirty, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); len(dirty) > 0 {
		commit += " with uncommitted changes"
	}
	return commit
}
