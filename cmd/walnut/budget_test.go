package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBudgetFromEnv(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		value string
		want  int64
		err   string // part of the error; "" for none
	}{
		"unset is no budget":        {"", 0, ""},
		"decimal gigabytes":         {"1GB", 1_000_000_000, ""},
		"megabytes with a space":    {"500 MB", 500_000_000, ""},
		"binary gibibytes":          {"1.5GiB", 1.5 * (1 << 30), ""},
		"lower case":                {"2gb", 2_000_000_000, ""},
		"kilobytes":                 {"750kB", 750_000, ""},
		"tebibytes":                 {"1TiB", 1 << 40, ""},
		"bytes":                     {"1048576B", 1 << 20, ""},
		"a number without its unit": {"1000", 0, "no unit"},
		"an unknown unit":           {"1 gigs", 0, `unknown unit "gigs"`},
		"not a number":              {"lots", 0, "not a size"},
		"zero":                      {"0GB", 0, "more than 0"},
		"two points":                {"1.2.3GB", 0, "not a size"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := budgetFromEnv(fakeEnv(map[string]string{"WALNUT_DB_BUDGET": c.value}))
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.err != "" && err == nil:
				t.Fatalf("%q read as %d, want an error", c.value, got)
			case c.err != "" && (!strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "WALNUT_DB_BUDGET")):
				t.Fatalf("error %q does not name the variable and say %q", err, c.err)
			case got != c.want:
				t.Errorf("%q = %d, want %d", c.value, got, c.want)
			}
		})
	}
}

func TestServeRejectsABadBudget(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "sites:\n  - {name: API, url: \"https://example.com/\"}\n")
	var stdout, stderr bytes.Buffer
	environ := fakeEnv(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "PORT": "0", "WALNUT_DB_BUDGET": "1 gigs"})
	if code := run(context.Background(), []string{"serve", "--config", cfg}, &stdout, &stderr, environ); code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if want := `walnut serve: WALNUT_DB_BUDGET="1 gigs": unknown unit "gigs"`; !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr lacks %q:\n%s", want, stderr.String())
	}
}
