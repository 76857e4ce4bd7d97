package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	shifts, err := parseRoster(f, name)
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

// parseRoster reads a roster CSV. It reports every bad row, each with its
// file and line, so that one run shows all there is to fix.
//
// It takes the CSV that spreadsheets and scripts write, not only the one a
// person types: a UTF-8 byte order mark (Excel's "CSV UTF-8", PowerShell's
// Export-Csv), quoted fields in the header too, CRLF line ends, the
// "#TYPE …" line older PowerShell puts first, semicolons where the header
// uses them (Excel in locales whose decimal mark is a comma), and rows or
// trailing columns left empty (",,,", which Excel writes for cells that
// were once used). Text the roster cannot show (control characters, bytes
// that are not UTF-8) is an error on its line, as a bad date is.
func parseRoster(r io.Reader, name string) ([]store.Shift, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(2); len(b) == 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff) {
		return nil, fmt.Errorf("%s: the file is UTF-16; save it as UTF-8 (Excel: \"CSV UTF-8\"; PowerShell: Export-Csv -Encoding utf8)", name)
	}
	if b, _ := br.Peek(3); string(b) == "\ufeff" {
		br.Discard(3) //nolint:errcheck // the three bytes were just peeked
	}
	// skipped counts lines read before the CSV reader starts, so that its
	// line numbers can be told as the file's.
	skipped := 0
	if b, _ := br.Peek(5); strings.EqualFold(string(b), "#TYPE") {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("%s: empty file; the first line must be start,end,person[,contact]", name)
		}
		skipped = 1
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comma = rosterComma(br)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file; the first line must be start,end,person[,contact]", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, lineShifted(err, skipped))
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	for len(header) > 0 && header[len(header)-1] == "" {
		header = header[:len(header)-1]
	}
	h := strings.Join(header, ",")
	if h != "start,end,person" && h != "start,end,person,contact" {
		return nil, fmt.Errorf("%s:%d: header is %q; want start,end,person or start,end,person,contact", name, 1+skipped, h)
	}
	var shifts []store.Shift
	var errs []error
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, pe.Line+skipped, pe.Err))
				continue
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		line += skipped
		if blankRow(rec) {
			continue // a blank line, or a spreadsheet's empty row
		}
		sh, err := parseShift(rec, len(header))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			continue
		}
		shifts = append(shifts, sh)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing imported:\n  %w", joinLines(errs))
	}
	return shifts, nil
}

// rosterComma is the header line's separator: a semicolon when the header
// has one and no comma, else a comma.
func rosterComma(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if bytes.IndexByte(b, ';') >= 0 && bytes.IndexByte(b, ',') < 0 {
		return ';'
	}
	return ','
}

// lineShifted adds skipped to a CSV parse error's lines.
func lineShifted(err error, skipped int) error {
	var pe *csv.ParseError
	if skipped == 0 || !errors.As(err, &pe) {
		return err
	}
	c := *pe
	c.StartLine += skipped
	c.Line += skipped
	return &c
}

func blankRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func parseShift(rec []string, columns int) (store.Shift, error) {
	// Columns past the header's are a spreadsheet's empty cells; anything
	// in them is a mistake worth a word.
	for len(rec) > columns && strings.TrimSpace(rec[len(rec)-1]) == "" {
		rec = rec[:len(rec)-1]
	}
	if len(rec) != columns {
		return store.Shift{}, fmt.Errorf("%d fields, want %d", len(rec), columns)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	start, err := time.Parse(time.DateOnly, rec[0])
	if err != nil {
		return store.Shift{}, fmt.Errorf("start %q is not a date like 2026-12-01", rec[0])
	}
	end, err := time.Parse(time.DateOnly, rec[1])
	if err != nil {
		return store.Shift{}, fmt.Errorf("end %q is not a date like 2026-12-01", rec[1])
	}
	if end.Before(start) {
		return store.Shift{}, fmt.Errorf("end %s is before start %s", rec[1], rec[0])
	}
	if rec[2] == "" {
		return store.Shift{}, errors.New("person is empty")
	}
	for i, field := range []string{"person", "contact"} {
		if 2+i < len(rec) {
			if err := oneLineText(field, rec[2+i]); err != nil {
				return store.Shift{}, err
			}
		}
	}
	sh := store.Shift{Start: start, End: end, Person: rec[2]}
	if columns == 4 {
		sh.Contact = rec[3]
	}
	return sh, nil
}

// oneLineText refuses what a board and a terminal cannot show as one line
// of a name: bytes that are not UTF-8 (a file saved in a legacy code page),
// and control characters, NUL among them, which PostgreSQL's text cannot
// even hold.
func oneLineText(field, s string) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd"):
			return fmt.Errorf("%s is not UTF-8 text; save the file as UTF-8 (Excel: \"CSV UTF-8\")", field)
		case unicode.IsControl(r):
			return fmt.Errorf("%s has a control character (%U); a name or contact is one line of text", field, r)
		}
	}
	return nil
}

type lineErrors []error

func (e lineErrors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "\n  ")
}

func joinLines(errs []error) error { return lineErrors(errs) }
