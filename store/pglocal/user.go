package pglocal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// serverAccount is the system user PostgreSQL runs as when Walnut runs as
// root, as the Debian package does.
const serverAccount = "postgres"

// runAs is the account the PostgreSQL programs run as when Walnut runs as
// root. PostgreSQL refuses to run as root ("root execution of the PostgreSQL
// server is not permitted"), so initdb and postgres run as the postgres system
// user, which then owns Dir. A nil *runAs means the current user.
type runAs struct {
	name   string
	uid    int
	gid    int
	groups []int // supplementary groups
}

// sysProcAttr returns process attributes that run a program as r.
func (r *runAs) sysProcAttr() *syscall.SysProcAttr {
	if r == nil {
		return &syscall.SysProcAttr{}
	}
	groups := make([]uint32, len(r.groups))
	for i, g := range r.groups {
		groups[i] = uint32(g)
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid:    uint32(r.uid),
		Gid:    uint32(r.gid),
		Groups: groups,
	}}
}

// serverUser returns nil when not running as root, else the postgres system
// user, created if missing.
func serverUser(ctx context.Context, logger *slog.Logger) (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverAccount)
	if errors.As(err, new(user.UnknownUserError)) {
		if err := createServerAccount(ctx); err != nil {
			return nil, err
		}
		logger.InfoContext(ctx, "created system user for PostgreSQL, which refuses to run as root", "user", serverAccount)
		u, err = user.Lookup(serverAccount)
	}
	if err != nil {
		return nil, fmt.Errorf("look up user %q to run PostgreSQL as (it refuses to run as root): %w", serverAccount, err)
	}
	r := &runAs{name: u.Username}
	if r.uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("user %q: uid %q: %w", serverAccount, u.Uid, err)
	}
	if r.gid, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("user %q: gid %q: %w", serverAccount, u.Gid, err)
	}
	if r.uid == 0 {
		return nil, fmt.Errorf("user %q has uid 0; PostgreSQL refuses to run as root", serverAccount)
	}
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("user %q: groups: %w", serverAccount, err)
	}
	for _, s := range gids {
		if g, err := strconv.Atoi(s); err == nil && g != r.gid {
			r.groups = append(r.groups, g)
		}
	}
	return r, nil
}

// createServerAccount adds the postgres system user as the Debian package
// would.
func createServerAccount(ctx context.Context) error {
	args := []string{"--system", "--home-dir", "/var/lib/postgresql", "--no-create-home", "--shell", "/bin/bash"}
	if _, err := user.LookupGroup(serverAccount); err == nil {
		args = append(args, "--gid", serverAccount)
	} else {
		args = append(args, "--user-group")
	}
	args = append(args, serverAccount)
	out, err := exec.CommandContext(ctx, "useradd", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("PostgreSQL refuses to run as root and there is no %q user to run it as; creating one failed (useradd %s: %w: %s): create it yourself, run Walnut as another user, or set DATABASE_URL",
			serverAccount, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// prepareDir creates dir (0700) and any missing parents (0755). When owner is
// set it checks that owner can reach dir and hands dir's tree over to owner.
//
// Nothing outside dir changes owner or mode, except parents prepareDir itself
// creates: those get 0755 whatever the umask, so that the postgres user can
// pass through them. When an existing parent is closed to the postgres user
// (say Walnut's checkout sits under /root, mode 0700), prepareDir does not
// open it up: it fails, naming the directory, so that the user picks a
// reachable Dir or sets DATABASE_URL. Options.Relocate, which moves the data
// elsewhere and says so, has been applied before.
func prepareDir(dir string, owner *runAs) error {
	if err := mkdirParents(dir); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if owner == nil {
		return nil
	}
	if err := checkReachable(dir, owner); err != nil {
		return err
	}
	return chownTree(dir, owner)
}

// mkdirParents creates the missing parents of dir with mode 0755.
func mkdirParents(dir string) error {
	var missing []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for _, p := range slices.Backward(missing) {
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", p, err)
		} else if err == nil {
			if err := os.Chmod(p, 0o755); err != nil { // undo a strict umask
				return err
			}
		}
	}
	return nil
}

// checkReachable reports an error when owner cannot search every parent of dir.
func checkReachable(dir string, owner *runAs) error {
	p, fi, err := closedParent(dir, owner)
	if err != nil || p == "" {
		return err
	}
	return fmt.Errorf("PostgreSQL runs as user %q (it refuses to run as root), which cannot reach %s: %s is mode %04o, owned by uid %d; choose a directory it can reach, or set DATABASE_URL",
		owner.name, dir, p, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid)
}

// closedParent returns the first parent of dir, from the top, that owner
// cannot search, or "" when it can reach dir.
func closedParent(dir string, owner *runAs) (string, fs.FileInfo, error) {
	var parents []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		parents = append(parents, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for _, p := range slices.Backward(parents) {
		fi, err := os.Stat(p)
		if err != nil {
			return "", nil, err
		}
		if !canSearch(fi, owner) {
			return p, fi, nil
		}
	}
	return "", nil, nil
}

func canSearch(fi fs.FileInfo, owner *runAs) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == owner.uid:
		return perm&0o100 != 0
	case int(st.Gid) == owner.gid || slices.Contains(owner.groups, int(st.Gid)):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// chownTree gives dir and everything in it to owner.
func chownTree(dir string, owner *runAs) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // a running server removed it
				return nil
			}
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == owner.uid && int(st.Gid) == owner.gid {
			return nil
		}
		if err := os.Lchown(path, owner.uid, owner.gid); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("hand %s to user %q: %w", path, owner.name, err)
		}
		return nil
	})
}

// RelocatedRoot holds the clusters that Options.Relocate moves out of
// directories the postgres user cannot reach. /var/lib is where a system
// service keeps its state, and it is open to every user.
const RelocatedRoot = "/var/lib/walnut"

// RelocatedDir is where Options.Relocate keeps the cluster for dir: a
// directory under RelocatedRoot named by a short hash of dir's absolute
// path, so that each checkout has its own and finds it again.
func RelocatedDir(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(RelocatedRoot, hex.EncodeToString(sum[:6]))
}

// relocate returns the directory to keep the cluster in: dir itself when
// owner can reach it, else RelocatedDir(dir) with dir made a symbolic link
// to it. dir is absolute.
func relocate(ctx context.Context, dir string, owner *runAs, logger *slog.Logger) (string, error) {
	if target, ok := linkTarget(dir); ok {
		return target, nil
	}
	if err := mkdirParents(dir); err != nil {
		return "", err
	}
	closed, fi, err := closedParent(dir, owner)
	if err != nil || closed == "" {
		return dir, err
	}
	target := RelocatedDir(dir)
	// An earlier run that failed on the closed directory may have left dir
	// behind, empty; one with files in it is not ours to replace.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w; it cannot be kept in %s instead, linked from %s: %w", checkReachable(dir, owner), target, dir, err)
	}
	if err := os.Symlink(target, dir); err != nil {
		// Another process (walnut migrate beside walnut serve) made the
		// link first.
		if t, ok := linkTarget(dir); ok && errors.Is(err, fs.ErrExist) {
			return t, nil
		}
		return "", fmt.Errorf("link %s to %s: %w", dir, target, err)
	}
	logger.InfoContext(ctx, "the postgres user cannot reach the local database's directory: keeping the cluster elsewhere, linked from there",
		"dir", dir, "cluster", target, "user", owner.name, "closed", closed, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	return target, nil
}

// linkTarget returns where dir points when it is a symbolic link.
func linkTarget(dir string) (string, bool) {
	t, err := os.Readlink(dir)
	if err != nil {
		return "", false
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(dir), t)
	}
	return t, true
}
