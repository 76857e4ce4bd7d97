package views

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkBoardRender1000 renders the whole board for 1,000 sites.
func BenchmarkBoardRender1000(b *testing.B) {
	states := []string{"ok", "ok", "ok", "ok", "ok", "ok", "ok", "notok", "pending", "unknown"}
	v := BoardView{Title: "Walnut", Summary: SummaryView{Counts: map[string]int{}, Total: 1000}, CSSPath: "/a.css", ScriptPath: "/b.js", EventsPath: "/events"}
	for g := range 10 {
		group := GroupView{Name: fmt.Sprintf("Group %d", g)}
		for i := range 100 {
			st := states[i%len(states)]
			t := TileView{Slug: fmt.Sprintf("site-%d-%d", g, i), Name: fmt.Sprintf("Site %d-%d", g, i), State: st,
				For: "3h 12m", Since: "2026-11-25T09:00:00Z", Checked: "2026-11-25T12:00:00Z", Interval: 30}
			if st == "notok" {
				t.Reason = "HTTP 503 Service Unavailable"
				v.Summary.Failing = append(v.Summary.Failing, t)
			}
			v.Summary.Counts[st]++
			group.Tiles = append(group.Tiles, t)
		}
		v.Groups = append(v.Groups, group)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := BoardPage(v).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
