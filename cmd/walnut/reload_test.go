package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
)

// TestApplyLetsTheConfigGo: once a config is applied, serve keeps what it
// took from it (sites, maintenance windows) but not the Config itself,
// which holds the file's parse tree to place recipe errors: at 1,000 sites
// that tree was 2.2 MiB of live heap for as long as the config ran.
func TestApplyLetsTheConfigGo(t *testing.T) {
	t.Parallel()
	var yaml strings.Builder
	yaml.WriteString("maintenance:\n  - {sites: [s001], from: 2026-12-01T22:00:00Z, to: 2026-12-01T23:00:00Z, reason: upgrade}\nsites:\n")
	for i := range 50 {
		fmt.Fprintf(&yaml, "  - {name: Site %d, slug: s%03d, url: \"https://s%d.example.com/\"}\n", i, i, i)
	}
	st := store.New(storetest.Pool(t))
	logger := slog.New(slog.DiscardHandler)
	ntf, err := newNotifier(st, fakeEnv(nil), logger)
	if err != nil {
		t.Fatal(err)
	}
	r := &reloader{store: st, notify: ntf, logger: logger}

	cfgRef := applyConfig(t, r, yaml.String())
	runtime.GC()
	if cfgRef.Value() != nil {
		t.Error("the applied Config is still reachable after a GC: something serve keeps points into it")
	}
	// What serve took from it still works.
	if reason, ok := ntf.maintenance("s001", time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)); !ok || reason != "maintenance: upgrade" {
		t.Errorf("maintenance(s001) = %q, %v; want the window's reason", reason, ok)
	}
	if _, ok := ntf.maintenance("s002", time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)); ok {
		t.Error("maintenance(s002) is true; the window names s001 only")
	}
}

// applyConfig loads the config from text, applies it through r and returns
// a weak pointer to the Config. A function of its own, so that no variable
// of the caller's points at the Config when the collector runs.
func applyConfig(t *testing.T, r *reloader, yaml string) weak.Pointer[config.Config] {
	t.Helper()
	cfg, err := loadConfig("", fakeEnv(map[string]string{"WALNUT_CONFIG_YAML": yaml}), recipes.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	sites, err := r.apply(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != len(cfg.Sites) {
		t.Fatalf("applied %d sites of %d", len(sites), len(cfg.Sites))
	}
	return weak.Make(cfg)
}
