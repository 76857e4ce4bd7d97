package web

import (
	"fmt"
	"net/http"
	"time"
)

// ago renders how long a state has held, coarsely, as a person reads a TV:
// "45s", "12m", "3h 12m", "4d 2h".
func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// millis renders a duration in milliseconds for tables.
func millis(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// ms is a duration in milliseconds for JSON, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func httpStatusText(code int) string {
	if code == 0 {
		return "–"
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}
