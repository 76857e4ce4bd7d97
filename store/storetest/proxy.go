package storetest

import (
	"errors"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Proxy stands between a test and its database on 127.0.0.1 and can
// freeze: bytes stop flowing both ways while every connection stays open,
// as when a network path dies without a reset. A client then sees a
// half-open connection: no data, no error, until something it sent goes
// unanswered.
type Proxy struct {
	t       testing.TB
	ln      net.Listener
	network string // the database's, "unix" or "tcp"
	address string
	connURL string

	mu     sync.Mutex
	frozen bool
	thaw   chan struct{} // closed when the proxy resumes or closes
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to the database of connString (as NewDatabase
// returns) and closes it when the test ends.
func NewProxy(t testing.TB, connString string) *Proxy {
	t.Helper()
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		t.Fatalf("storetest: proxy: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("storetest: proxy: %v", err)
	}
	p := &Proxy{t: t, ln: ln, conns: map[net.Conn]struct{}{}}
	p.network, p.address = pgconn.NetworkAddress(cfg.Host, cfg.Port)
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(cfg.User, cfg.Password),
		Host:   ln.Addr().String(),
		Path:   "/" + cfg.Database,
		// The proxy passes TLS through untouched, so a server that offers
		// it may use it; a local socket does not.
		RawQuery: "sslmode=prefer",
	}
	p.connURL = u.String()
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// URL returns a connection string that reaches the database through the
// proxy.
func (p *Proxy) URL() string { return p.connURL }

// Freeze stops forwarding: what either side sends waits in the proxy, and
// connections made meanwhile are accepted and then hear nothing.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thaw = make(chan struct{})
	}
}

// Resume forwards again, what waited first.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.frozen {
		p.frozen = false
		close(p.thaw)
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// track registers a connection, or closes it when the proxy has closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

// flowing waits while the proxy is frozen; false: it has closed.
func (p *Proxy) flowing() bool {
	for {
		p.mu.Lock()
		closed, frozen, thaw := p.closed, p.frozen, p.thaw
		p.mu.Unlock()
		switch {
		case closed:
			return false
		case !frozen:
			return true
		}
		<-thaw
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.t.Logf("storetest: proxy: accept: %v", err)
			}
			return
		}
		if !p.track(client) {
			return
		}
		p.wg.Go(func() { p.serve(client) })
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.untrack(client)
	server, err := net.Dial(p.network, p.address)
	if err != nil {
		p.t.Logf("storetest: proxy: dial %s: %v", p.address, err)
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	var wg sync.WaitGroup
	// Either side ending ends both, once the proxy flows: a frozen path
	// tells nobody anything.
	wg.Go(func() { p.pipe(server, client); p.flowing(); server.Close(); client.Close() })
	wg.Go(func() { p.pipe(client, server); p.flowing(); server.Close(); client.Close() })
	wg.Wait()
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.flowing() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// EOF, or a side closed: the caller ends both.
			return
		}
	}
}
