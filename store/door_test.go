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

// forbidden are the import paths (and everything under them) that only
// store and its subpackages may use: store is Walnut's one door to
// PostgreSQL and to River's job queue.
var forbidden = []string{
	"github.com/jackc/pgx",
	"github.com/riverqueue/river",
}

// exempt are the directories, from the module's root, that may still import
// them, each with its reason.
var exempt = map[string]string{
	"bench": "measures the database from outside (sizes, WAL, the probes' schedule), as psql would",
	// Until the dispatcher's River client moves into store.
	"notify": "",
}

// TestStoreIsTheOnlyDoorToPostgreSQL reads the imports of every Go file of
// the module outside store, tests included, and fails on pgx or River.
func TestStoreIsTheOnlyDoorToPostgreSQL(t *testing.T) {
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
			if _, ok := exempt[rel]; ok {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		for _, imp := range imports(t, path) {
			if slices.ContainsFunc(forbidden, func(f string) bool { return imp == f || strings.HasPrefix(imp, f+"/") }) {
				t.Errorf("%s imports %s: only store and its subpackages talk to PostgreSQL and River", rel, imp)
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
