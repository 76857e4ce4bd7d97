package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/walnut-board/walnut/checker"
	"github.com/walnut-board/walnut/config"
	"github.com/walnut-board/walnut/recipes"
	"github.com/walnut-board/walnut/store"
)

// cmdCheck probes one site once, without a database, and exits 0 for ok, 1
// for notok, 2 for pending and 3 for an error. A heartbeat site is not
// probed (see checkHeartbeat).
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("walnut check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: walnut check [--config F] SLUG\n\nProbes one site once and prints its verdict, reason and timings.\nNo database is needed. Exit status: 0 ok, 1 notok, 2 pending, 3 error.\nA heartbeat site is not probed: check says what Walnut does with it and,\nwith DATABASE_URL, when it last called (exit 4 when that cannot be read).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	slug := fs.Arg(0)
	reg := recipes.Builtin()
	cfg, err := loadConfig(*path, lookup, reg)
	if err != nil {
		printConfigError(stderr, err)
		return exitError
	}
	var known []string
	for i, s := range cfg.Sites {
		if s.Slug != slug {
			known = append(known, s.Slug)
			continue
		}
		if s.Heartbeat != nil {
			return checkHeartbeat(ctx, stdout, stderr, lookup, s)
		}
		rec, err := siteRecipe(cfg, i, reg)
		if err != nil {
			printConfigError(stderr, err)
			return exitError
		}
		res := checker.Check(ctx, checker.NewClient(), checkerSite(s, 0, rec), time.Now)
		p := res.Probe
		printProbe(stdout, s.Name, s.RedactedURL, p, res.Cert, s.Kind == config.KindTCP)
		return stateExit(p.State)
	}
	fmt.Fprintf(stderr, "walnut check: no site with slug %q in the config; the slugs are: %v\n", slug, known)
	return exitError
}

// stateExit is walnut check's exit status for a verdict: 0 ok, 1 notok,
// 2 pending.
func stateExit(s store.State) int {
	switch s {
	case store.StateOK:
		return 0
	case store.StateNotOK:
		return 1
	case store.StatePending:
		return 2
	}
	return exitError
}

// printProbe prints a probe's verdict and timings; a tcp:// or tls://
// site's (tcp) without TTFB, which it does not have, and the certificate
// of a TLS site.
func printProbe(w io.Writer, name, url string, p store.Probe, cert *store.Cert, tcp bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "site\t%s (%s)\n", name, url)
	fmt.Fprintf(tw, "state\t%s\n", p.State)
	if p.Reason != "" {
		fmt.Fprintf(tw, "reason\t%s\n", p.Reason)
	}
	if p.HTTPStatus != 0 {
		fmt.Fprintf(tw, "http status\t%d\n", p.HTTPStatus)
	}
	for _, ph := range []struct {
		name string
		d    time.Duration
	}{{"dns", p.DNS}, {"connect", p.Connect}, {"tls", p.TLS}, {"ttfb", p.TTFB}, {"latency", p.Latency}} {
		if tcp && (ph.name == "ttfb" || ph.name == "tls" && !strings.HasPrefix(url, "tls:")) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f ms\n", ph.name, float64(ph.d)/float64(time.Millisecond))
	}
	if cert != nil {
		line := fmt.Sprintf("%s (%s), issued by %s", store.ExpiryText(cert.Left(p.At)), cert.ExpiresAt.Format(time.RFC3339), cert.Issuer)
		if !cert.Verified {
			line += "; not verified (tls: insecure)"
		}
		fmt.Fprintf(tw, "certificate\t%s\n", line)
	}
	tw.Flush()
}
