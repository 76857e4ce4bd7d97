package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/store/storetest"
	"github.com/walnut-board/walnut/web"
)

type fakeNotifyHealth []store.SinkHealth

func (f fakeNotifyHealth) NotifyHealth(context.Context) ([]store.SinkHealth, error) { return f, nil }

func TestHealthzReportsSinks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	last := now.Add(-time.Minute)
	old := now.Add(-10 * time.Minute)
	sinks := fakeNotifyHealth{
		{Sink: "pagerduty", LastOutcome: "failed", LastDetail: "pagerduty trigger: HTTP response failed with status code 400", LastAt: &last},
		{Sink: "slack", LastOutcome: "sent", LastAt: &last, Pending: 2, OldestPending: &old},
		{Sink: "webhook", LastOutcome: "sent", LastAt: &last},
	}
	srv := httptest.NewServer(web.New(web.Options{
		Store: store.New(storetest.Pool(t)), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notify: sinks, Now: func() time.Time { return now },
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: a failing sink is not a failing Walnut", resp.StatusCode)
	}
	var got struct {
		Status string `json:"status"`
		Notify []struct {
			Sink, Status, Error string
			Pending             int
		} `json:"notify"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pagerduty": "failing", "slack": "delayed", "webhook": "ok"}
	if len(got.Notify) != 3 {
		t.Fatalf("notify = %+v", got.Notify)
	}
	for _, s := range got.Notify {
		if s.Status != want[s.Sink] {
			t.Errorf("%s: %s, want %s", s.Sink, s.Status, want[s.Sink])
		}
	}
	if got.Notify[0].Error == "" || got.Notify[1].Pending != 2 {
		t.Errorf("details missing: %+v", got.Notify)
	}
}
