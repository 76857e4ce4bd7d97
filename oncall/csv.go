package oncall

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/textrule"
)

// ParseCSV reads a roster CSV, as `walnut roster import` takes it: a
// header start,end,person[,contact], then one shift a row, dates YYYY-MM-DD
// with both ends inclusive. name is the file's, for messages. It reports every bad row, each with its
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
func ParseCSV(r io.Reader, name string) ([]store.Shift, error) {
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
	cr.Comma = csvComma(br)
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

// csvComma is the header line's separator: a semicolon when the header
// has one and no comma, else a comma.
func csvComma(br *bufio.Reader) rune {
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
		case textrule.Control(r):
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
