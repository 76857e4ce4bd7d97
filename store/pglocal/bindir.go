package pglocal

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debianRoot is where Debian and Ubuntu install each PostgreSQL major version,
// as debianRoot/<version>/bin; their server binaries are not on PATH.
const debianRoot = "/usr/lib/postgresql"

// FindBinDir returns the directory holding PostgreSQL's server programs
// (initdb, postgres). It asks `pg_config --bindir` first, then takes the
// highest version under /usr/lib/postgresql/*/bin, then looks for initdb on
// PATH. The error when none has them says what to install.
func FindBinDir() (string, error) {
	looked := []string{"pg_config --bindir"}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if hasServer(dir) {
			return dir, nil
		}
		looked[0] += " (" + dir + ")"
	}
	looked = append(looked, debianRoot+"/*/bin")
	if dir := highestDebianBinDir(); dir != "" {
		return dir, nil
	}
	looked = append(looked, "PATH")
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(initdb); hasServer(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL server binaries not found (looked in %s): install them with %q (Debian/Ubuntu) or %q (macOS), or set DATABASE_URL to an existing database",
		strings.Join(looked, ", "), "sudo apt-get install postgresql", "brew install postgresql")
}

// hasServer reports whether dir holds initdb and postgres.
func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// highestDebianBinDir returns /usr/lib/postgresql/<v>/bin for the highest
// version v that has the server, or "".
func highestDebianBinDir() string {
	entries, err := os.ReadDir(debianRoot)
	if err != nil {
		return ""
	}
	type candidate struct {
		version []int
		dir     string
	}
	var found []candidate
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		dir := filepath.Join(debianRoot, e.Name(), "bin")
		if ok && hasServer(dir) {
			found = append(found, candidate{v, dir})
		}
	}
	if len(found) == 0 {
		return ""
	}
	best := slices.MaxFunc(found, func(a, b candidate) int { return slices.Compare(a.version, b.version) })
	return best.dir
}

// parseVersion reads "15" or "9.6" as numbers, so that 10 sorts above 9.6.
func parseVersion(s string) ([]int, bool) {
	var v []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}
