package web

import (
	"cmp"
	"net/http"
	"time"
)

// Timeouts bound how long a connection may hold the server: without them a
// client that sends a body a byte a minute, or keeps a connection open and
// says nothing, holds a goroutine and a file descriptor for as long as it
// likes. Zero fields take the defaults.
//
// /events lives for hours under the same server: net/http lifts the read
// deadline once a request without a body has been read, and the stream
// moves its write deadline with every event it sends (events.go).
type Timeouts struct {
	// ReadHeader bounds reading a request's headers; default 10s.
	ReadHeader time.Duration
	// Read bounds reading a whole request, headers and body; default 30s.
	// Walnut's request bodies (a Slack command, a heartbeat) are small.
	Read time.Duration
	// Write bounds writing a response, from the end of its request's
	// headers; default 60s: the handlers' database reads give up after 10s
	// (QueryTimeout) and Heroku's router after 30s.
	Write time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request; default 95s, longer than the 90s after which Heroku's router
	// drops an idle connection to a dyno, so that the router, not Walnut,
	// closes it and never sends a request on a connection being closed.
	Idle time.Duration
}

// Server returns an http.Server for handler with these timeouts.
func (t Timeouts) Server(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cmp.Or(t.ReadHeader, 10*time.Second),
		ReadTimeout:       cmp.Or(t.Read, 30*time.Second),
		WriteTimeout:      cmp.Or(t.Write, 60*time.Second),
		IdleTimeout:       cmp.Or(t.Idle, 95*time.Second),
	}
}
