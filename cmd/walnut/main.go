// Command walnut is the whole of Walnut: the checker, the writer and the web
// server (serve), the schema (migrate), one-off probes (check) and the
// config validator (config check).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=..."; the
// module version stands in otherwise.
var version = ""

// Exit codes of every command; check adds 1 for notok and 2 for pending.
const (
	exitOK    = 0
	exitError = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// env is how commands read the environment, so tests hand in their own.
type env func(string) (string, bool)

func (e env) get(name string) string {
	v, _ := e(name)
	return v
}

const usage = `Walnut is a status board: it probes the sites in walnut.yaml, keeps every
probe in PostgreSQL and shows them on a live board.

Usage:
  walnut serve [--config F] [--demo]   migrate, probe and serve the board
  walnut migrate                       bring the database schema up to date
  walnut check [--config F] SLUG       probe one site once and print the verdict
  walnut roster                        who is on support today and the next 7 days
  walnut roster import FILE.csv        replace the support roster with a CSV file
  walnut config check [--config F]     validate the config and list its sites
  walnut version                       print the version

Run "walnut COMMAND --help" for a command's flags. The environment variables
are listed in the README (DATABASE_URL, PORT, WALNUT_CONFIG, ...).
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, lookup)
	case "migrate":
		return cmdMigrate(ctx, args[1:], stdout, stderr, lookup)
	case "roster":
		return cmdRoster(ctx, args[1:], stdout, stderr, lookup)
	case "check":
		return cmdCheck(ctx, args[1:], stdout, stderr, lookup)
	case "config":
		if len(args) > 1 && args[1] == "check" {
			return cmdConfigCheck(ctx, args[2:], stdout, stderr, lookup)
		}
		fmt.Fprintln(stderr, `walnut: unknown command; did you mean "walnut config check"?`)
		return exitError
	case "version", "--version":
		fmt.Fprintln(stdout, "walnut", buildVersion())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "walnut: unknown command %q\n\n%s", args[0], usage)
	return exitError
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
