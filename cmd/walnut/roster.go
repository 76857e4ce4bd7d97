package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/walnut-board/walnut/oncall"
	"github.com/walnut-board/walnut/store"
)

// cmdRoster is `walnut roster` (who is on support today and the next seven
// days) and `walnut roster import FILE.csv`.
func cmdRoster(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	if len(args) > 0 && args[0] == "import" {
		return cmdRosterImport(ctx, args[1:], stdout, stderr, lookup)
	}
	fs := flag.NewFlagSet("walnut roster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", "", "show this day (YYYY-MM-DD) instead of today")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: walnut roster [--date YYYY-MM-DD]\n       walnut roster import FILE.csv\n\nPrints who is on support today (the server's local day) and the next 7 days.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "walnut roster: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitError
	}
	today := time.Now()
	if *date != "" {
		d, err := time.ParseInLocation(time.DateOnly, *date, time.Local)
		if err != nil {
			fmt.Fprintf(stderr, "walnut roster: --date %q is not a date like 2026-12-01\n", *date)
			return exitError
		}
		today = d
	}
	st, closeDB, code := rosterStore(ctx, stderr, lookup)
	if st == nil {
		return code
	}
	defer closeDB()
	last := today.AddDate(0, 0, 7)
	shifts, err := st.RosterBetween(ctx, today, last)
	if err != nil {
		fmt.Fprintln(stderr, "walnut roster:", err)
		return exitError
	}
	for i := range 8 {
		day := today.AddDate(0, 0, i)
		label := "          "
		if i == 0 {
			label = "today     "
		}
		fmt.Fprintf(stdout, "%s%s  %s\n", label, day.Format("Mon 2006-01-02"), onDuty(shifts, day))
	}
	printRosterSyncs(ctx, stdout, st)
	return exitOK
}

// onDuty is who is on support on day, as the roster command prints it.
func onDuty(shifts []store.Shift, day time.Time) string {
	var people []string
	for _, s := range store.OnSupport(shifts, day) {
		p := s.Person
		if s.Contact != "" {
			p += " (" + s.Contact + ")"
		}
		people = append(people, p)
	}
	if len(people) == 0 {
		return "nobody on support"
	}
	return strings.Join(people, " & ")
}

func cmdRosterImport(ctx context.Context, args []string, stdout, stderr io.Writer, lookup env) int {
	fs := flag.NewFlagSet("walnut roster import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: walnut roster import FILE.csv

Replaces the whole support roster with the file's shifts, in one transaction.
The header is start,end,person[,contact]; dates are YYYY-MM-DD and both ends
are inclusive. UTF-8 with or without a byte order mark, quoted fields, CRLF,
semicolons and empty rows (as Excel and PowerShell's Export-Csv write them)
are fine. Any bad row is an error naming its line, and then nothing is
imported.`)
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	name := fs.Arg(0)
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintln(stderr, "walnut roster import:", err)
		return exitError
	}
	defer f.Close()
	shifts, err := oncall.ParseCSV(f, name)
	if err != nil {
		fmt.Fprintln(stderr, "walnut roster import:", err)
		return exitError
	}
	st, closeDB, code := rosterStore(ctx, stderr, lookup)
	if st == nil {
		return code
	}
	defer closeDB()
	if err := st.RosterReplace(ctx, shifts); err != nil {
		fmt.Fprintln(stderr, "walnut roster import:", err)
		return exitError
	}
	fmt.Fprintf(stdout, "imported %d shifts from %s; the roster now holds exactly these\n", len(shifts), name)
	return exitOK
}

func rosterStore(ctx context.Context, stderr io.Writer, lookup env) (*store.Store, func(), int) {
	logger := newLogger(stderr, lookup)
	st, closeDB, err := openDatabase(ctx, lookup, logger)
	if err != nil {
		fmt.Fprintln(stderr, "walnut roster:", err)
		return nil, nil, exitError
	}
	if err := st.Migrate(ctx, logger); err != nil {
		closeDB()
		fmt.Fprintln(stderr, "walnut roster:", err)
		return nil, nil, exitError
	}
	return st, closeDB, exitOK
}
