package main

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/notify"
	"github.com/walnut-board/walnut/store"
)

// notifier wires alerting into serve: the sinks the environment configures,
// who hears about which site (kept in the database, where the transaction
// that records a transition reads it), and the dispatcher that delivers.
type notifier struct {
	store  *store.Store
	sinks  []string
	d      *notify.Dispatcher
	logger *slog.Logger
	// windows are the running config's maintenance windows, which the
	// checker asks about every probe (maintenance).
	windows atomic.Pointer[config.Windows]
}

func newNotifier(st *store.Store, lookup env, logger *slog.Logger) (*notifier, error) {
	sinks := notify.SinksFromEnv(notify.Env(lookup), nil, st, logger)
	d, err := notify.New(notify.Options{
		Store:           st,
		Sinks:           sinks,
		BaseURL:         lookup.get("WALNUT_URL"),
		Logger:          logger,
		DefaultFlapping: notify.Flapping(config.DefaultFlapping()),
	})
	if err != nil {
		return nil, err
	}
	return &notifier{store: st, sinks: notify.Names(sinks), d: d, logger: logger}, nil
}

// apply routes each site of cfg to its sinks and takes its maintenance
// windows and flap damping; serve calls it at start and on every reload.
func (n *notifier) apply(ctx context.Context, cfg *config.Config) error {
	wants := make([]notify.Site, len(cfg.Sites))
	for i, s := range cfg.Sites {
		wants[i] = notify.Site{Slug: s.Slug, Recipe: s.RecipeName, Notify: s.Notify, Severity: s.Severity}
	}
	routes := notify.Routes(wants, n.sinks)
	for i, s := range cfg.Sites {
		for _, want := range s.Notify {
			if !slices.Contains(routes[i].Sinks, want) {
				n.logger.Warn("site wants a sink that is not configured", "site", s.Slug, "sink", want)
			}
		}
	}
	if err := n.store.NotifyRoutesSync(ctx, routes); err != nil {
		return err
	}
	n.d.SetMaintenance(cfg.Maintenance)
	flaps := make(map[string]notify.Flapping, len(cfg.Sites))
	for _, s := range cfg.Sites {
		flaps[s.Slug] = notify.Flapping(s.Flapping)
	}
	n.d.SetFlapping(flaps)
	// A copy: &cfg.Maintenance would keep the whole Config alive after a
	// reload has replaced it (a Config once held the file's parse tree:
	// 2.2 MiB at 1,000 sites).
	ws := cfg.Maintenance
	n.windows.Store(&ws)
	return nil
}

// maintenance says whether a window of the running config covers the site
// at t, and what its probes then read; the checker and the heartbeat
// receiver ask it of every probe.
func (n *notifier) maintenance(slug string, at time.Time) (string, bool) {
	ws := n.windows.Load()
	if ws == nil {
		return "", false
	}
	return ws.Reason(slug, at)
}

func (n *notifier) start(ctx context.Context) error {
	if len(n.sinks) == 0 {
		n.logger.Info("alerting is off: no PAGERDUTY_ROUTING_KEY, SLACK_BOT_TOKEN with SLACK_CHANNEL, SLACK_WEBHOOK_URL or WALNUT_WEBHOOK_URL")
	} else {
		n.logger.Info("alerting", "sinks", n.sinks)
	}
	// The dispatcher runs even without sinks, so that notices left from an
	// earlier configuration are closed rather than kept pending.
	return n.d.Start(ctx)
}

// stop lets deliveries in flight finish; the rest wait in the database.
func (n *notifier) stop(ctx context.Context) {
	if err := n.d.Stop(ctx); err != nil {
		n.logger.Warn("stop alerting", "error", err)
	}
}
