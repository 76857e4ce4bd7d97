package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walnut-board/walnut/metrics"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveProbe("api", "ok", 120*time.Millisecond)
	m.ObserveProbe("api", "ok", 80*time.Millisecond)
	m.ObserveProbe("api", "notok", 10*time.Second)
	m.ObserveBatch(3*time.Millisecond, nil)
	m.ObserveLate(2 * time.Millisecond)
	m.ObserveBatch(time.Second, errors.New("down"))
	depth := 7.0
	m.Gauge("walnut_writer_queue_depth", "Probes waiting to be written.", func() float64 { return depth })

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`walnut_probes_total{site="api",state="ok"} 2`,
		`walnut_probes_total{site="api",state="notok"} 1`,
		`walnut_probe_duration_seconds_count 3`,
		`walnut_writer_batch_duration_seconds_count{result="error"} 1`,
		`walnut_writer_queue_depth 7`,
		`walnut_probe_start_late_seconds_count 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestForgetSite(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveProbe("api", "ok", time.Millisecond)
	m.ObserveProbe("api", "notok", time.Millisecond)
	m.ObserveProbe("api-v2", "ok", time.Millisecond)
	m.ForgetSite("api")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if strings.Contains(string(body), `site="api"`) {
		t.Errorf("a forgotten site's series are still scraped:\n%s", body)
	}
	for _, want := range []string{`walnut_probes_total{site="api-v2",state="ok"} 1`, `walnut_probe_duration_seconds_count 3`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
