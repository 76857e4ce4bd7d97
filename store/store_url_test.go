package store_test

import (
	"testing"

	"github.com/walnut-board/walnut/store"
)

func TestWithSSLMode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:p@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d":              "postgres://u:p@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d?sslmode=require",
		"postgres://u:p@db.example.com/d?application_name=walnut":                "postgres://u:p@db.example.com/d?application_name=walnut&sslmode=require",
		"postgres://u:p@db.example.com/d?sslmode=disable":                        "postgres://u:p@db.example.com/d?sslmode=disable",
		"postgres://localhost/d":                                                 "postgres://localhost/d",
		"postgres://127.0.0.1:5432/d":                                            "postgres://127.0.0.1:5432/d",
		"postgres://[::1]:5432/d":                                                "postgres://[::1]:5432/d",
		"host=/tmp/walnut port=5432 user=postgres dbname=walnut sslmode=disable": "host=/tmp/walnut port=5432 user=postgres dbname=walnut sslmode=disable",
		"host=/tmp/walnut dbname=walnut":                                         "host=/tmp/walnut dbname=walnut",
		"host=db.internal dbname=walnut":                                         "host=db.internal dbname=walnut sslmode=require",
	} {
		if got := store.WithSSLMode(in); got != want {
			t.Errorf("WithSSLMode(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
