package store_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rules say what a package may not import. Only store and its
// subpackages talk to PostgreSQL and River; notify is told what to send and
// to whom in plain values, not in the config's types.
var rules = []struct {
	dir     string // from the module's root; "" for every package outside store
	tests   bool   // the rule holds for _test.go files too
	imports []string
	why     string
}{
	{"", true, []string{"github.com/jackc/pgx", "github.com/riverqueue/river"}, "only store and its subpackages talk to PostgreSQL and River"},
	{"notify", false, []string{"github.com/walnut-board/walnut/config"}, "notify takes plain values, not the config's types"},
}

// TestPackageBoundaries reads the imports of every Go file of the module
// outside store and fails on one its package may not use: pgx or River
// anywhere, config in notify.
func TestPackageBoundaries(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel == "store" || name == "testdata" || name == "node_modules" || (strings.HasPrefix(name, ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		dir, test := filepath.ToSlash(filepath.Dir(rel)), strings.HasSuffix(path, "_test.go")
		for _, imp := range imports(t, path) {
			for _, r := range rules {
				if (r.dir != "" && r.dir != dir) || (test && !r.tests) {
					continue
				}
				if slices.ContainsFunc(r.imports, func(f string) bool { return imp == f || strings.HasPrefix(imp, f+"/") }) {
					t.Errorf("%s imports %s: %s", rel, imp, r.why)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A walk that found nothing would pass whatever the code imports.
	if files < 50 {
		t.Fatalf("read %d Go files outside store; the walk is looking in the wrong place (%s)", files, root)
	}
}

// imports returns the import paths of one Go file.
func imports(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	out := make([]string, 0, len(f.Imports))
	for _, s := range f.Imports {
		p, err := strconv.Unquote(s.Path.Value)
		if err != nil {
			t.Fatalf("%s: import %s: %v", path, s.Path.Value, err)
		}
		out = append(out, p)
	}
	return out
}

// moduleRoot is the directory of go.mod above the test's working directory
// (the store package's).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return dir
}
