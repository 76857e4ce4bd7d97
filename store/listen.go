package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Channels on which the store announces changes.
const (
	// ChannelChecked is notified once per statement that updates site
	// state; its payload is the earliest checked_at written, in Unix
	// microseconds (ParseChecked), for SiteListCheckedSince.
	ChannelChecked = "walnut_checked"
	// ChannelSites is notified when SiteSync commits: sites were added,
	// removed, renamed or reordered.
	ChannelSites = "walnut_sites"
)

// ParseChecked reads a ChannelChecked payload.
func ParseChecked(payload string) (time.Time, error) {
	us, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s payload %q: %w", ChannelChecked, payload, err)
	}
	return time.UnixMicro(us), nil
}

// ListenOptions tunes Listen; zero values take the defaults.
type ListenOptions struct {
	Logger *slog.Logger
	// Backoff gives the wait before reconnect attempt n (1, 2, ...); default
	// 500ms doubling to 30s.
	Backoff func(n int) time.Duration
	// OnNotify is called for each notification, in order, on Listen's
	// goroutine; and with an empty channel after each (re)connection, since
	// notifications sent while disconnected are lost.
	OnNotify func(channel, payload string)
	// OnState is called with true when listening starts and false when the
	// connection is lost.
	OnState func(up bool)
	// PingInterval is how long the connection may stay quiet before Listen
	// pings it; default 5s. A connection whose network path died without a
	// reset (a half-open one) delivers nothing and reports no error, and TCP
	// keepalive would take minutes to notice: only an answer proves it
	// alive.
	PingInterval time.Duration
	// Timeout bounds connecting, each LISTEN and each ping; default 5s. A
	// ping unanswered this long counts as a lost connection.
	Timeout time.Duration
}

// Listen holds one connection of its own (outside the pool, which it would
// otherwise starve) LISTENing on channels, and reconnects with backoff when
// the connection drops. It returns when ctx ends.
func (s *Store) Listen(ctx context.Context, channels []string, opts ListenOptions) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Backoff == nil {
		opts.Backoff = func(n int) time.Duration {
			return min(500*time.Millisecond<<min(n-1, 6), 30*time.Second)
		}
	}
	if opts.OnNotify == nil {
		opts.OnNotify = func(string, string) {}
	}
	if opts.OnState == nil {
		opts.OnState = func(bool) {}
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	failures := 0
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, channels, opts, &failures)
		if ctx.Err() != nil {
			return
		}
		failures++
		wait := opts.Backoff(failures)
		opts.Logger.WarnContext(ctx, "listen: connection lost; reconnecting", "error", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, channels []string, opts ListenOptions, failures *int) error {
	conn, err := s.listenConnect(ctx, channels, opts.Timeout)
	if err != nil {
		return err
	}
	defer closeConn(ctx, conn, opts.Timeout)
	*failures = 0
	opts.OnState(true)
	defer opts.OnState(false)
	opts.OnNotify("", "")
	for {
		wctx, cancel := context.WithTimeout(ctx, opts.PingInterval)
		n, err := conn.WaitForNotification(wctx)
		quiet := err != nil && wctx.Err() != nil && ctx.Err() == nil && pgconn.Timeout(err)
		cancel()
		switch {
		case err == nil:
			opts.OnNotify(n.Channel, n.Payload)
			continue
		case !quiet:
			return fmt.Errorf("wait for notification: %w", err)
		}
		// A wait cut short by its own deadline leaves the connection usable
		// (pgx resumes a partly read message), so it can carry the ping.
		pctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("ping the listening connection: %w", err)
		}
	}
}

// listenConnect opens the listening connection and LISTENs on channels,
// within timeout: a server that accepted the connection and then went
// silent must not hold Listen forever.
func (s *Store) listenConnect(ctx context.Context, channels []string, timeout time.Duration) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			closeConn(ctx, conn, timeout)
			return nil, fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	return conn, nil
}

// closeConn closes a connection within timeout, even once ctx has ended:
// Close says goodbye to the server, which a dead network path would never
// let through.
func closeConn(ctx context.Context, conn *pgx.Conn, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	conn.Close(ctx)
}
