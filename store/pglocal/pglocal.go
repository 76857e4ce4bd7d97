// Package pglocal starts a PostgreSQL server from the binaries installed on the
// machine, with its data and its Unix socket in one directory. Walnut uses it
// when DATABASE_URL is unset (the cluster under .walnut/postgres) and for
// tests (a throwaway cluster per test binary, see store/storetest).
//
// The server is the postgres binary run directly as a child process, not
// through pg_ctl: Start can then notice at once when it dies during startup,
// and cancellation of ctx kills exactly the process it started.
package pglocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// defaultPort names the socket (.s.PGSQL.5432) when Options.Port is 0.
	defaultPort = 5432
	// superuser is the role initdb creates and URL connects as.
	superuser = "postgres"
	// maxSocketPath is the longest path a Unix socket may have on Linux:
	// sun_path holds 108 bytes including the terminating NUL.
	maxSocketPath = 107

	startTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
	// quitTimeout is how long an immediate shutdown may take before the
	// server is killed.
	quitTimeout  = 10 * time.Second
	pollInterval = 10 * time.Millisecond
)

// Options say where the cluster lives and how it runs.
type Options struct {
	// Dir holds everything: the data in Dir/data, the server log in
	// Dir/postgres.log and the Unix socket. Keep it short: the socket path
	// Dir/.s.PGSQL.5432 must fit in 107 bytes.
	Dir string
	// Ephemeral is for tests: no fsync, no synchronous commit, no full page
	// writes, immediate shutdown, and Dir is removed on Stop.
	Ephemeral bool
	// Logger receives what pglocal does (not the server's own log). Nil
	// discards.
	Logger *slog.Logger
	// Port is the TCP port on localhost. 0 means no TCP at all: the server
	// only listens on its Unix socket.
	Port int
	// Relocate lets a root process keep the cluster elsewhere when the
	// postgres user cannot reach Dir (a checkout under /root, mode 0700):
	// in RelocatedRoot/<hash of Dir>, with Dir made a symbolic link to it,
	// so the next start and `make db/reset` find it. Without it, or not as
	// root, an unreachable Dir is an error naming the closed directory.
	Relocate bool
}

// Cluster is a running PostgreSQL server.
type Cluster struct {
	dir       string
	dataDir   string
	socketDir string
	port      int
	ephemeral bool
	logger    *slog.Logger

	// reused is true when Start found a server already running on the data
	// directory; Stop leaves such a server alone, since it belongs to
	// another process (say, `walnut serve` while `walnut migrate` runs).
	reused bool
	pid    int
	proc   *os.Process
	exited chan struct{} // closed when the server process has been reaped
	waitMu sync.Mutex
	// waitErr is what Wait returned; valid once exited is closed.
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// Start initializes the cluster in opts.Dir if it has none yet, and starts the
// server, or reuses the one already running on that directory. It returns once
// the server accepts connections.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	began := time.Now()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Dir == "" {
		return nil, errors.New("start local PostgreSQL: no directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	}
	if strings.ContainsAny(dir, "\",") {
		return nil, fmt.Errorf("start local PostgreSQL: directory %q: PostgreSQL cannot use a socket directory with a comma or a double quote in its name", dir)
	}
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	owner, err := serverUser(ctx, logger)
	if err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	}
	if opts.Relocate && owner != nil {
		if dir, err = relocate(ctx, dir, owner, logger); err != nil {
			return nil, fmt.Errorf("start local PostgreSQL: %w", err)
		}
	}
	port := opts.Port
	if port == 0 {
		port = defaultPort
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("start local PostgreSQL: port %d out of range", opts.Port)
	}
	if sock := socketPath(dir, port); len(sock) > maxSocketPath {
		return nil, fmt.Errorf("start local PostgreSQL: socket path %s is %d bytes, over the %d-byte limit of Unix sockets: choose a shorter directory", sock, len(sock), maxSocketPath)
	}
	if err := prepareDir(dir, owner); err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	}

	c := &Cluster{
		dir:       dir,
		dataDir:   filepath.Join(dir, "data"),
		socketDir: dir,
		port:      port,
		ephemeral: opts.Ephemeral,
		logger:    logger,
	}
	started := false
	defer func() {
		if !started && opts.Ephemeral {
			os.RemoveAll(dir)
		}
	}()

	// The lock keeps two processes starting on the same directory (`walnut
	// serve` and `walnut migrate` on a first run) from both running initdb
	// or both starting a server.
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	}
	defer unlock()

	if ok, err := c.reuse(ctx); err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	} else if ok {
		started = true
		logger.InfoContext(ctx, "local PostgreSQL already running, reusing it",
			"dir", dir, "socket", c.SocketPath(), "pid", c.pid)
		return c, nil
	}

	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := c.initdb(ctx, binDir, owner); err != nil {
			return nil, fmt.Errorf("start local PostgreSQL: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	}
	if err := c.start(ctx, binDir, owner, opts.Port); err != nil {
		return nil, fmt.Errorf("start local PostgreSQL: %w", err)
	}
	started = true
	logger.InfoContext(ctx, "local PostgreSQL started",
		"dir", dir, "socket", c.SocketPath(), "pid", c.pid, "duration", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// URL returns a connection string for database dbname through the Unix socket,
// as the superuser "postgres". It is in keyword/value form, which pgx and libpq
// accept.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteValue(c.socketDir), c.port, superuser, quoteValue(dbname))
}

// SocketPath returns the path of the server's Unix socket.
func (c *Cluster) SocketPath() string { return socketPath(c.socketDir, c.port) }

// CreateDatabase creates database name unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: another process won the race
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	c.logger.InfoContext(ctx, "database created", "database", name)
	return nil
}

// Stop shuts the server down: a fast shutdown (clients are disconnected,
// a checkpoint is written), or an immediate one for an ephemeral cluster,
// whose directory is then removed. A server that Start found already running
// is left running. Stop may be called more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	if c.reused {
		c.logger.Info("local PostgreSQL left running: this process did not start it", "dir", c.dir, "pid", c.pid)
		return nil
	}
	began := time.Now()
	// SIGINT is PostgreSQL's fast shutdown, SIGQUIT its immediate one
	// (what pg_ctl stop -m fast / -m immediate send).
	sig := syscall.SIGINT
	if c.ephemeral {
		sig = syscall.SIGQUIT
	}
	var errs []error
	select {
	case <-c.exited:
		errs = append(errs, fmt.Errorf("stop local PostgreSQL: the server had already exited: %w", c.exitError()))
	default:
		if err := c.proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("stop local PostgreSQL: %w", err))
		}
		select {
		case <-c.exited:
		case <-time.After(stopTimeout):
			c.stopNow(quitTimeout)
			errs = append(errs, fmt.Errorf("stop local PostgreSQL: no fast shutdown within %s, shut down immediately", stopTimeout))
		}
	}
	if c.ephemeral {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("stop local PostgreSQL: %w", err))
		}
	}
	c.logger.Info("local PostgreSQL stopped", "dir", c.dir, "duration", time.Since(began).Round(time.Millisecond))
	return errors.Join(errs...)
}

// watch makes cmd, started, the cluster's server process and reaps it when
// it exits, closing c.exited.
func (c *Cluster) watch(cmd *exec.Cmd) {
	c.proc = cmd.Process
	c.pid = cmd.Process.Pid
	c.exited = make(chan struct{})
	go func() {
		err := cmd.Wait()
		c.waitMu.Lock()
		c.waitErr = err
		c.waitMu.Unlock()
		close(c.exited)
	}()
}

// stopNow is PostgreSQL's immediate shutdown (SIGQUIT), then SIGKILL for a
// server still running after grace: a server that will not stop is not
// left behind. It returns once the process is reaped.
func (c *Cluster) stopNow(grace time.Duration) {
	c.proc.Signal(syscall.SIGQUIT) //nolint:errcheck // an exited process is what we want
	select {
	case <-c.exited:
	case <-time.After(grace):
		c.proc.Kill() //nolint:errcheck // likewise
		<-c.exited
	}
}

func (c *Cluster) exitError() error {
	c.waitMu.Lock()
	defer c.waitMu.Unlock()
	if c.waitErr == nil {
		return errors.New("exit status 0")
	}
	return c.waitErr
}

// initdb creates the cluster in c.dataDir.
func (c *Cluster) initdb(ctx context.Context, binDir string, owner *runAs) error {
	args := []string{
		"--pgdata=" + c.dataDir,
		"--username=" + superuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-instructions",
	}
	if c.ephemeral {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = owner.sysProcAttr()
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("initdb %s: %w", c.dataDir, ctx.Err())
		}
		return fmt.Errorf("initdb %s: %w\n%s", c.dataDir, err, lastLines(out, 20))
	}
	c.logger.InfoContext(ctx, "local PostgreSQL cluster created", "data", c.dataDir, "duration", time.Since(began).Round(time.Millisecond))
	return nil
}

// start runs the postgres binary and waits until it accepts connections.
func (c *Cluster) start(ctx context.Context, binDir string, owner *runAs, tcpPort int) error {
	listen := ""
	if tcpPort != 0 {
		listen = "localhost"
	}
	args := []string{
		"-D", c.dataDir,
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=" + listen,
		"-c", `unix_socket_directories="` + c.socketDir + `"`,
		"-c", "unix_socket_permissions=0700",
	}
	if c.ephemeral {
		args = append(args,
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
			// Parallel tests each hold a pool of connections.
			"-c", "max_connections=500",
			// Parallel query workers use /dev/shm, which is 64 MB in a
			// default Docker container; tests do not need them.
			"-c", "max_parallel_workers_per_gather=0",
		)
	}
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	if owner != nil {
		if err := os.Chown(logPath, owner.uid, owner.gid); err != nil {
			return fmt.Errorf("open server log: %w", err)
		}
	}

	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = owner.sysProcAttr()
	// A process group of its own: Ctrl-C in a terminal reaches Walnut, which
	// drains its work and then calls Stop, instead of reaching the server
	// first.
	cmd.SysProcAttr.Setpgid = true
	if c.ephemeral {
		// A test binary that dies (a timeout panic, Ctrl-C) takes its
		// server with it.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run postgres: %w", err)
	}
	c.watch(cmd)

	if err := c.waitReady(ctx); err != nil {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during startup (%w); the end of %s:\n%s", c.exitError(), logPath, tailFile(logPath, 20))
		default:
		}
		c.stopNow(quitTimeout)
		return fmt.Errorf("%w; the end of %s:\n%s", err, logPath, tailFile(logPath, 20))
	}
	return nil
}

// waitReady waits until the server started by c.start accepts connections, it
// exits, ctx ends or startTimeout passes.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		// The postmaster writes "ready" into its pid file once it accepts
		// connections; pg_ctl start -w waits for the same line.
		if pf, err := readPidFile(c.dataDir); err == nil && pf.pid == c.pid && pf.status == "ready" {
			return c.ping(ctx)
		}
		select {
		case <-c.exited:
			return errors.New("postgres exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres to accept connections: %w", context.Cause(ctx))
		case <-ticker.C:
		}
	}
}

// ping connects once to check that the server answers on the socket.
func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to local PostgreSQL: %w", err)
	}
	return conn.Close(ctx)
}

// reuse adopts a server already running on the data directory, if there is
// one. It reports false when there is none, removing a pid file that a dead
// server left behind.
func (c *Cluster) reuse(ctx context.Context) (bool, error) {
	pf, err := readPidFile(c.dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !processAlive(pf.pid) {
		// PostgreSQL itself recovers from a stale pid file whose process is
		// gone.
		return false, nil
	}
	if !looksLikePostgres(pf.pid) {
		// After a reboot or a container restart the pid may belong to an
		// unrelated process; PostgreSQL would refuse to start, thinking
		// another server holds the directory.
		c.logger.WarnContext(ctx, "removing stale postmaster.pid", "pid", pf.pid, "data", c.dataDir)
		if err := os.Remove(filepath.Join(c.dataDir, "postmaster.pid")); err != nil {
			return false, fmt.Errorf("remove stale pid file: %w", err)
		}
		return false, nil
	}
	c.reused = true
	c.pid = pf.pid
	if pf.port != 0 {
		c.port = pf.port
	}
	if pf.socketDir != "" {
		c.socketDir = pf.socketDir
	}
	// It may still be starting: wait for it as for one of our own.
	waitCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		pf, err := readPidFile(c.dataDir)
		if err == nil && pf.pid == c.pid && pf.status == "ready" {
			break
		}
		if err != nil || pf.pid != c.pid {
			return false, fmt.Errorf("the PostgreSQL server (pid %d) running on %s went away while starting", c.pid, c.dataDir)
		}
		select {
		case <-waitCtx.Done():
			return false, fmt.Errorf("a PostgreSQL server (pid %d) runs on %s but is not ready: %w", c.pid, c.dataDir, context.Cause(waitCtx))
		case <-ticker.C:
		}
	}
	if c.socketDir == "" {
		return false, fmt.Errorf("the PostgreSQL server (pid %d) running on %s has no Unix socket; stop it and start again", c.pid, c.dataDir)
	}
	if err := c.ping(waitCtx); err != nil {
		return false, fmt.Errorf("the PostgreSQL server (pid %d) running on %s does not answer on %s (if no such server runs, remove %s): %w",
			c.pid, c.dataDir, c.SocketPath(), filepath.Join(c.dataDir, "postmaster.pid"), err)
	}
	return true, nil
}

// pidFile is what postmaster.pid says. Its lines are: pid, data directory,
// start time, port, first socket directory, first listen address, shared
// memory key, status.
type pidFile struct {
	pid       int
	port      int
	socketDir string
	status    string
}

func readPidFile(dataDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	var pf pidFile
	pf.pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pf.pid <= 0 {
		// Being written, or garbage.
		return pidFile{}, fmt.Errorf("read %s: no pid on its first line", filepath.Join(dataDir, "postmaster.pid"))
	}
	if len(lines) > 3 {
		pf.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 4 {
		pf.socketDir = strings.TrimSpace(lines[4])
	}
	if len(lines) > 7 {
		pf.status = strings.TrimSpace(lines[7])
	}
	return pf, nil
}

// processAlive reports whether pid names a live process.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// looksLikePostgres reports whether pid runs postgres. Where /proc is missing
// it assumes so.
func looksLikePostgres(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return true
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

// lockDir takes an exclusive lock on dir/.lock, waiting for another process
// that holds it, until ctx ends.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: another process is starting PostgreSQL there: %w", dir, ctx.Err())
		case <-ticker.C:
		}
	}
}

func socketPath(dir string, port int) string {
	return filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port))
}

// quoteValue quotes a keyword/value connection string value when it needs it.
func quoteValue(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r\v\f'\\") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// tailFile returns the last n lines of the file at path, or a note saying why
// it could not be read.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return lastLines(b, n)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
