package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
)

// instanceID names this process in the site leases: readable (host,
// Heroku's dyno, pid) and unique across restarts.
func instanceID() string {
	host, _ := os.Hostname()
	if dyno := os.Getenv("DYNO"); dyno != "" {
		host = dyno
	}
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // never fails
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
