package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/metrics"
	"github.com/walnut-board/walnut/oncall"
	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// configPollInterval is how often serve looks at the config file's
// modification time; SIGHUP reloads at once.
const configPollInterval = 5 * time.Second

// reloader applies a new config to a running serve: it syncs the sites table
// (new sites appear, removed ones are retired) and hands the placer the new
// set; the checker restarts only the runners whose site changed. A config with
// errors is logged, line by line, and the running one stays.
type reloader struct {
	path   string // "" when the config came from WALNUT_CONFIG_YAML
	lookup env
	store  *store.Store
	placer *checker.Placer
	// slugs are the sites of the config applied last, whose metrics a
	// reload that drops one forgets; apply runs at start, then only on
	// run's goroutine.
	slugs map[string]bool
	// metrics loses the series of the sites a reload removes; nil: none.
	metrics *metrics.Metrics
	logger  *slog.Logger
	notify  *notifier // alert routes and maintenance windows follow the config; nil: none
	// heartbeats takes calls for every heartbeat site of the config, held
	// here or not; nil: none.
	heartbeats *checker.Heartbeats
	// oncall reads the roster from PagerDuty when the config says so; nil:
	// never.
	oncall *oncall.PagerDuty
}

// apply resolves a config's sites to the checker's, syncing the sites
// table for their ids.
func (r *reloader) apply(ctx context.Context, cfg *config.Config) ([]checker.Site, error) {
	// Recipes first: a site that cannot be probed must not reach the
	// sites table.
	reg := recipes.Builtin()
	recs := make([]recipes.Recipe, len(cfg.Sites))
	for i := range cfg.Sites {
		rec, err := siteRecipe(cfg, i, reg)
		if err != nil {
			return nil, err
		}
		recs[i] = rec
	}
	ids, err := r.store.SiteSync(ctx, siteSpecs(cfg))
	if err != nil {
		return nil, err
	}
	if r.notify != nil {
		if err := r.notify.apply(ctx, cfg); err != nil {
			return nil, err
		}
	}
	sites := make([]checker.Site, len(cfg.Sites))
	slugs := make(map[string]bool, len(cfg.Sites))
	for i, s := range cfg.Sites {
		sites[i] = checkerSite(s, ids[s.Slug], recs[i])
		slugs[s.Slug] = true
	}
	r.slugs = slugs
	if r.heartbeats != nil {
		r.heartbeats.SetSites(sites)
	}
	if r.oncall != nil {
		if pd := pagerDutyRoster(cfg); pd != nil {
			r.oncall.SetSchedules(pd.Schedules, pd.Every)
		} else {
			r.oncall.SetSchedules(nil, 0)
		}
	}
	return sites, nil
}

func (r *reloader) reload(ctx context.Context) error {
	cfg, err := loadConfig(r.path, r.lookup, recipes.Builtin())
	if err != nil {
		for _, e := range unjoin(err) {
			r.logger.Error("config not reloaded: keeping the running one", "problem", e.Error())
		}
		return err
	}
	before := r.slugs
	sites, err := r.apply(ctx, cfg)
	if err != nil {
		r.logger.Error("config not reloaded: keeping the running one", "error", err)
		return err
	}
	r.placer.SetSites(ctx, sites)
	// Only now: SetSites has stopped the removed sites' runners, so no
	// late probe of theirs can bring a series back.
	r.forgetRemoved(before)
	r.logger.Info("config reloaded", "sites", len(sites))
	return nil
}

// forgetRemoved drops the metric series of the sites in before that the
// config applied last lacks.
func (r *reloader) forgetRemoved(before map[string]bool) {
	if r.metrics == nil {
		return
	}
	for slug := range before {
		if !r.slugs[slug] {
			r.metrics.ForgetSite(slug)
		}
	}
}

// run reloads on SIGHUP and when the config file changes, until ctx ends.
func (r *reloader) run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(configPollInterval)
	defer tick.Stop()
	last := r.modTime()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.logger.Info("SIGHUP: reloading the config")
		case <-tick.C:
			mt := r.modTime()
			if mt.Equal(last) {
				continue
			}
			last = mt
			r.logger.Info("the config file changed: reloading it", "file", r.path)
		}
		r.reload(ctx) //nolint:errcheck // reload logs its own errors
	}
}

func (r *reloader) modTime() time.Time {
	if r.path == "" {
		return time.Time{}
	}
	fi, err := os.Stat(r.path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// pagerDutyRoster is the config's roster.pagerduty, or nil.
func pagerDutyRoster(cfg *config.Config) *config.PagerDutyRoster {
	if cfg.Roster == nil {
		return nil
	}
	return cfg.Roster.PagerDuty
}
