package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walnut-board/walnut/store/storetest"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRosterImportAndShow(t *testing.T) {
	t.Parallel()
	environ := fakeEnv(map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_LOG_LEVEL": "error"})
	runRoster := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"roster"}, args...), &out, &errOut, environ)
		return code, out.String(), errOut.String()
	}

	good := writeFile(t, "good.csv", "start,end,person,contact\n2026-12-01,2026-12-03,Ada,@ada\n2026-12-04,2026-12-04,Grace,\n2026-12-03, 2026-12-03 ,Linus,\n")
	if code, out, errOut := runRoster("import", good); code != 0 || !strings.Contains(out, "imported 3 shifts") {
		t.Fatalf("import: code %d, out %q, err %q", code, out, errOut)
	}
	code, out, errOut := runRoster("--date", "2026-12-03")
	if code != 0 {
		t.Fatalf("roster: code %d, err %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("roster printed %d lines, want today and 7 more:\n%s", len(lines), out)
	}
	for i, want := range []string{"today     Thu 2026-12-03  Ada (@ada) & Linus", "Fri 2026-12-04  Grace", "Sat 2026-12-05  nobody on support"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines[i], want)
		}
	}

	// A bad file names every bad line and changes nothing.
	bad := writeFile(t, "bad.csv", "start,end,person\n2026-12-01,2026-12-02,Ada\n2026-13-01,2026-12-02,Bob\n2026-12-05,2026-12-04,Cy\n2026-12-06,2026-12-06,\n")
	code, _, errOut = runRoster("import", bad)
	if code != exitError {
		t.Fatalf("bad import: code %d, want %d", code, exitError)
	}
	for _, want := range []string{"nothing imported", "bad.csv:3: start \"2026-13-01\"", "bad.csv:4: end 2026-12-04 is before start", "bad.csv:5: person is empty"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("bad import error %q lacks %q", errOut, want)
		}
	}
	if _, out, _ := runRoster("--date", "2026-12-04"); !strings.Contains(out, "Grace") {
		t.Errorf("a failed import changed the roster:\n%s", out)
	}

	badHeader := writeFile(t, "header.csv", "from,to,who\n")
	if code, _, errOut := runRoster("import", badHeader); code != exitError || !strings.Contains(errOut, "header.csv:1: header") {
		t.Errorf("bad header: code %d, err %q", code, errOut)
	}
}

// TestRosterImportRefusesNUL: a NUL in a field is the file's mistake, told
// by its line, not a database error, and the roster stays as it was.
func TestRosterImportRefusesNUL(t *testing.T) {
	t.Parallel()
	environ := fakeEnv(map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "WALNUT_LOG_LEVEL": "error"})
	runRoster := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"roster"}, args...), &out, &errOut, environ)
		return code, out.String(), errOut.String()
	}
	ps := writeFile(t, "ps.csv", "\ufeff\"start\",\"end\",\"person\",\"contact\"\r\n\"2026-12-01\",\"2026-12-07\",\"Ada\",\"@ada\"\r\n,,,\r\n")
	if code, out, errOut := runRoster("import", ps); code != 0 || !strings.Contains(out, "imported 1 shifts") {
		t.Fatalf("PowerShell file: code %d, out %q, err %q", code, out, errOut)
	}
	bad := writeFile(t, "nul.csv", "start,end,person\n2026-12-01,2026-12-07,Grace\n2026-12-08,2026-12-14,Gr\x00ace\n")
	code, _, errOut := runRoster("import", bad)
	if code != exitError || !strings.Contains(errOut, "nul.csv:3: person has a control character (U+0000)") {
		t.Errorf("NUL: code %d, err %q", code, errOut)
	}
	if strings.Contains(errOut, "SQLSTATE") {
		t.Errorf("NUL reached the database: %q", errOut)
	}
	if _, out, _ := runRoster("--date", "2026-12-02"); !strings.Contains(out, "Ada (@ada)") {
		t.Errorf("a refused import changed the roster:\n%s", out)
	}
}
