package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/metrics"
	"github.com/walnut-board/walnut/notify"
	"github.com/walnut-board/walnut/oncall"
	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("walnut serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	demo := fs.Bool("demo", false, "also serve demo upstreams on 127.0.0.1, play a job calling in, and set WALNUT_DEMO_URL, WALNUT_DEMO_ADDR and WALNUT_DEMO_HEARTBEAT_TOKEN, for walnut.example.yaml")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: walnut serve [--config F] [--demo]\n\nMigrates the database, probes every site in the config and serves the board\non $PORT (default 8080).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	logger := newLogger(stderr, lookup)
	defer startPprof(ctx, lookup.get("WALNUT_PPROF"), logger)()

	var demoToken string
	if *demo {
		url, stopDemo, err := startDemo(ctx, logger)
		if err != nil {
			fmt.Fprintln(stderr, "walnut serve:", err)
			return exitError
		}
		defer stopDemo()
		lookup = withEnv(lookup, "WALNUT_DEMO_URL", url)
		// The same upstream as host:port, for the example's tcp:// site.
		lookup = withEnv(lookup, "WALNUT_DEMO_ADDR", strings.TrimPrefix(url, "http://"))
		// A token set in the environment wins, so that a newcomer can try
		// the README's curl examples against make run.
		demoToken = lookup.get("WALNUT_DEMO_HEARTBEAT_TOKEN")
		if demoToken == "" {
			demoToken = demoHeartbeatToken()
			lookup = withEnv(lookup, "WALNUT_DEMO_HEARTBEAT_TOKEN", demoToken)
		}
	}

	// The config is checked before the database is touched: a typo must not
	// retire half the sites.
	cfg, err := loadConfig(*path, lookup, recipes.Builtin())
	if err != nil && errors.Is(err, os.ErrNotExist) && *path == "" && configPath("", lookup) == defaultConfigPath {
		// A fresh deploy with no config yet: serve an empty board that says
		// so, and pick the file up when it appears, rather than crash-loop.
		logger.Warn("no config: add walnut.yaml or set WALNUT_CONFIG_YAML; serving an empty board until then")
		cfg, err = &config.Config{Path: defaultConfigPath}, nil
	}
	if err != nil {
		printConfigError(stderr, err)
		return exitError
	}
	retention, err := retentionFromEnv(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}
	budget, err := budgetFromEnv(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}

	port := lookup.get("PORT")
	if port == "" {
		port = "8080"
	}
	// Listen before the slow start-up so that a busy port fails fast.
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintf(stderr, "walnut serve: listen on port %s: %v\n", port, err)
		return exitError
	}

	st, closeDB, err := openDatabase(ctx, lookup, logger)
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}
	defer closeDB()
	if err := migrateAll(ctx, st, logger); err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}
	mtr := metrics.New()
	writer := store.NewWriter(st, logger.With("component", "writer"), store.WriterOptions{
		FlushedFunc: func(f store.Flush) { mtr.ObserveBatch(f.Took, f.Err) },
	})
	observeWriter(mtr, writer)
	// The maintainer trims the oldest history to stay under a budget, so
	// the warning may say so.
	storage := web.NewStorageWatch(web.StorageWatchOptions{Sizer: st, Budget: budget, Trimming: budget > 0, Logger: logger.With("component", "storage")})
	observeStorage(mtr, storage, budget)
	ntf, err := newNotifier(st, lookup, logger.With("component", "notify"))
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}
	sink := observedSink{next: writer, metrics: mtr}
	// Heartbeat calls take the runners' way to the writer, so maintenance
	// windows and metrics apply to them alike.
	// An upstream, or a job's report, that echoes the sinks' credentials
	// must not put them in a reason either.
	credentials := notify.Credentials(notify.Env(lookup))
	heartbeats := checker.NewHeartbeats(sink, st, logger.With("component", "heartbeat"), checker.HeartbeatOptions{
		MaintenanceFunc: ntf.maintenance,
		Secrets:         credentials,
	})
	chk := checker.New(sink, logger.With("component", "checker"), checker.Options{
		MaintenanceFunc: ntf.maintenance,
		LateFunc:        mtr.ObserveLate,
		Secrets:         credentials,
		Heartbeats:      heartbeats,
		// Certificates are kept, and warned of, through the store.
		Certs: st,
	})
	instance := instanceID()
	place := checker.NewPlacer(st, chk, checker.PlacerOptions{Owner: instance, Logger: logger.With("component", "lease")})
	rl := &reloader{
		path: configPath(*path, lookup), lookup: lookup, store: st, placer: place,
		metrics: mtr, logger: logger.With("component", "config"), notify: ntf,
		heartbeats: heartbeats,
		oncall: oncall.New(oncall.Options{
			Token: lookup.get("PAGERDUTY_API_TOKEN"), APIURL: lookup.get("PAGERDUTY_API_URL"),
			Store: st, Logger: logger.With("component", "roster"),
		}),
	}
	if pagerDutyRoster(cfg) != nil && lookup.get("PAGERDUTY_API_TOKEN") == "" {
		logger.Warn("roster.pagerduty is configured but PAGERDUTY_API_TOKEN is not set: the roster will not be read from PagerDuty")
	}
	allSites, err := rl.apply(ctx, cfg)
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}
	if err := ntf.start(ctx); err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}
	// With other instances on the same database, this one probes its share.
	sites, err := place.Start(ctx, allSites)
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "walnut serve:", err)
		return exitError
	}

	// The writer outlives the checker: it stops only after the last probe
	// is handed over, then flushes.
	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	var writerDone, checkerDone sync.WaitGroup
	writerDone.Go(func() { writer.Run(writerCtx) })

	checkCtx, stopChecks := context.WithCancel(ctx)
	checkerDone.Go(func() { chk.Run(checkCtx, sites) })
	checkerDone.Go(func() { rl.run(checkCtx) })
	checkerDone.Go(func() { place.Run(checkCtx) })
	retention.Budget = budget
	retention.Holding = writer.OldestHeld
	maint := web.NewMaintenanceWatch(nil)
	observeMaintenance(mtr, maint)
	retention.PassedFunc = maint.Passed
	maintainer := store.NewMaintainer(st, logger.With("component", "maintenance"), retention)
	checkerDone.Go(func() { maintainer.Run(checkCtx) })
	checkerDone.Go(func() { rl.oncall.Run(checkCtx) })
	checkerDone.Go(func() { storage.Run(checkCtx) })

	routes := http.NewServeMux()
	routes.Handle("GET /metrics", mtr.Handler())
	// The live board: one LISTEN connection per process, fanned out to
	// every /events stream.
	hub := web.NewHub(web.HubOptions{Store: st, Notify: st, Storage: storage, Logger: logger.With("component", "live")})
	checkerDone.Go(func() { hub.Run(checkCtx) })
	mtr.Gauge("walnut_sse_clients", "Browsers connected to /events.", func() float64 { return float64(hub.Clients()) })
	mtr.Gauge("walnut_notifications_pending", "Notifications waiting to be delivered, all sinks.", func() float64 {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		health, err := st.NotifyHealth(ctx)
		if err != nil {
			return math.NaN()
		}
		n := 0
		for _, h := range health {
			n += h.Pending
		}
		return float64(n)
	})
	routes.Handle("/", web.New(web.Options{
		Store: st, Logger: logger.With("component", "web"), Version: buildVersion(),
		Hub: hub, Roster: st, KioskToken: lookup.get("WALNUT_KIOSK_TOKEN"),
		Notify: st, SlackSigningSecret: lookup.get("SLACK_SIGNING_SECRET"),
		Writer: writer, Storage: storage, Maintenance: maint, Heartbeats: heartbeatRoute{heartbeats},
	}))
	// Requests live in a context of their own, canceled at shutdown, so
	// that event streams end at once and browsers reconnect to the next
	// process instead of holding this one open until it is killed.
	reqCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	srv := web.Timeouts{}.Server(web.Protect(lookup.get("WALNUT_PASSWORD"), web.NewKiosk(lookup.get("WALNUT_KIOSK_TOKEN")), routes))
	srv.BaseContext = func(net.Listener) context.Context { return reqCtx }
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	// Event streams never go idle: end them, or Shutdown waits them out.
	srv.RegisterOnShutdown(hub.Close)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if demoToken != "" {
		self := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
		checkerDone.Go(func() { feedDemoHeartbeat(checkCtx, self, demoToken, logger.With("component", "demo")) })
	}
	logger.Info("walnut is serving", "board", "http://localhost:"+port+"/", "sites", len(allSites), "probing", len(sites), "instance", instance, "version", buildVersion())

	code := exitOK
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		logger.Error("http server stopped", "error", err)
		code = exitError
	}

	// Stop taking requests, then stop probing, then write what was probed.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	endRequests()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("http shutdown", "error", err)
	}
	// Calls merged into a probe not yet stored are stored now, while the
	// writer still takes probes.
	heartbeats.Close()
	stopChecks()
	checkerDone.Wait()
	stopWriter()
	writerDone.Wait()
	// After the last write: its notices are in the database either way,
	// and go out now or from the next process. The deliveries get a
	// deadline of their own, since the writer's flush may have used up the
	// first on a slow database; both fit in Heroku's 30 s before SIGKILL.
	notifyCtx, cancelNotify := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelNotify()
	ntf.stop(notifyCtx)
	logger.Info("stopped", "probes_written", writer.Written(), "probes_dropped", writer.Dropped())
	return code
}

// migrateAll brings the schema up to date and makes sure probe partitions
// exist from yesterday to a week ahead.
func migrateAll(ctx context.Context, st *store.Store, logger *slog.Logger) error {
	if err := st.Migrate(ctx, logger); err != nil {
		return err
	}
	_, err := st.ProbePartitionsEnsure(ctx, time.Now().Add(-24*time.Hour), 9)
	return err
}

// withEnv overlays one variable on an environment.
func withEnv(lookup env, name, value string) env {
	return func(k string) (string, bool) {
		if k == name {
			return value, true
		}
		return lookup(k)
	}
}
