package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) (string, *goquery.Document) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), doc
}

const evil = `<script>alert("x")</script>`

func TestTile(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		tile       TileView
		word, icon string
		reason     bool
	}{
		"ok":      {TileView{Slug: "api", Name: "API", State: "ok", For: "3h 12m", Since: "2026-11-25T09:00:00Z", Checked: "2026-11-25T12:11:59Z", Interval: 30, Reason: "ignored"}, "OK", "✓", false},
		"notok":   {TileView{Slug: "db", Name: "DB " + evil, State: "notok", For: "5m", Reason: "HTTP 503 " + evil, Interval: 60}, "DOWN", "✕", true},
		"pending": {TileView{Slug: "ci", Name: "CI", State: "pending", Reason: "build running"}, "PENDING", "…", true},
		"unknown": {TileView{Slug: "new", Name: "New", State: "unknown"}, "UNKNOWN", "?", false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			html, doc := render(t, Tile(tc.tile))
			tile := doc.Find("[data-testid=tile]")
			if tile.Length() != 1 {
				t.Fatalf("%d tiles in %s", tile.Length(), html)
			}
			for attr, want := range map[string]string{
				"data-slug": tc.tile.Slug, "data-state": tc.tile.State, "id": "tile-" + tc.tile.Slug,
				"data-checked": tc.tile.Checked, "href": "/sites/" + tc.tile.Slug,
			} {
				if got := tile.AttrOr(attr, "<none>"); got != want {
					t.Errorf("%s = %q, want %q", attr, got, want)
				}
			}
			// State is told by a word and a symbol, not by colour alone.
			badge := tile.Find(".badge").Text()
			if !strings.Contains(badge, tc.word) || !strings.Contains(badge, tc.icon) {
				t.Errorf("badge %q lacks %q and %q", badge, tc.word, tc.icon)
			}
			if got := tile.Find(".tile-name").Text(); got != tc.tile.Name {
				t.Errorf("name shown as %q, want %q", got, tc.tile.Name)
			}
			if got := tile.Find(".tile-reason").Length() == 1; got != tc.reason {
				t.Errorf("reason shown: %v, want %v", got, tc.reason)
			}
			if tc.tile.For != "" {
				f := tile.Find(".tile-for")
				if f.Text() != "for "+tc.tile.For || f.AttrOr("data-since", "") != tc.tile.Since {
					t.Errorf("for = %q since %q", f.Text(), f.AttrOr("data-since", ""))
				}
			}
			if strings.Contains(html, "<script>") {
				t.Errorf("unescaped script in %s", html)
			}
		})
	}
}

func TestStrip(t *testing.T) {
	t.Parallel()
	t.Run("calm", func(t *testing.T) {
		t.Parallel()
		_, doc := render(t, Strip(SummaryView{Counts: map[string]int{"ok": 3}, Total: 3}))
		if got := doc.Find("#strip").Text(); !strings.Contains(got, "All 3 sites OK") {
			t.Errorf("calm strip = %q", got)
		}
		if doc.Find("[data-testid=failing]").Length() != 0 {
			t.Error("failing entries on a green board")
		}
	})
	t.Run("failing", func(t *testing.T) {
		t.Parallel()
		var failing []TileView
		for i := range 8 {
			failing = append(failing, TileView{Slug: "s" + string(rune('a'+i)), Name: "Site " + evil, State: "notok", For: "5m", Since: "2026-11-25T12:00:00Z", Reason: "refused " + evil})
		}
		html, doc := render(t, Strip(SummaryView{Counts: map[string]int{"notok": 8}, Total: 8, Failing: failing}))
		entries := doc.Find("[data-testid=failing]")
		if entries.Length() != stripMax {
			t.Errorf("%d entries, want %d", entries.Length(), stripMax)
		}
		if got := entries.First().AttrOr("data-slug", ""); got != "sa" {
			t.Errorf("first entry %q, want the first failing site", got)
		}
		if got := entries.First().Find(".fail-name").Text(); got != "Site "+evil {
			t.Errorf("name %q", got)
		}
		if got := doc.Find(".fail-more").Text(); got != "and 2 more down" {
			t.Errorf("more = %q", got)
		}
		if strings.Contains(html, "<script>") {
			t.Errorf("unescaped script in %s", html)
		}
	})
}

func TestSupport(t *testing.T) {
	t.Parallel()
	_, doc := render(t, Support(SupportView{Person: "Ada " + evil, Contact: "@ada", Until: "Sun 7 Dec"}))
	if got := doc.Find(".support-person").Text(); got != "Ada "+evil {
		t.Errorf("person = %q", got)
	}
	if got := doc.Find(".support-contact").Text(); got != "@ada" {
		t.Errorf("contact = %q", got)
	}
	if got := doc.Find(".support-until").Text(); got != "until Sun 7 Dec" {
		t.Errorf("until = %q", got)
	}
	_, doc = render(t, Support(SupportView{}))
	if got := doc.Find("#support").Text(); !strings.Contains(got, "Nobody on support today") {
		t.Errorf("empty roster shows %q", got)
	}
}

func TestBoardPage(t *testing.T) {
	t.Parallel()
	tiles := make([]TileView, 130)
	for i := range tiles {
		tiles[i] = TileView{Slug: "s" + strings.Repeat("x", i), Name: "S", State: "ok"}
	}
	v := BoardView{
		Title:   "Ops " + evil,
		Groups:  []GroupView{{Name: "Group " + evil, Tiles: tiles}},
		Summary: SummaryView{Counts: map[string]int{"ok": 130}, Total: 130},
		Support: SupportView{Person: "Ada"}, Version: "v1.2.3", Kiosk: true,
		CSSPath: "/assets/abc/walnut.css", ScriptPath: "/assets/def/board.js", EventsPath: "/events",
		Updated: "2026-11-25T12:00:00Z", UpdatedAt: "12:00:00 UTC",
	}
	html, doc := render(t, BoardPage(v))
	body := doc.Find("body")
	if cls := body.AttrOr("class", ""); !strings.Contains(cls, "density-xl") || !strings.Contains(cls, "kiosk") {
		t.Errorf("body class %q, want density-xl and kiosk", cls)
	}
	if body.AttrOr("data-version", "") != "v1.2.3" || body.AttrOr("data-events", "") != "/events" {
		t.Errorf("body data: version %q events %q", body.AttrOr("data-version", ""), body.AttrOr("data-events", ""))
	}
	if got := doc.Find("script[src]").AttrOr("src", ""); got != "/assets/def/board.js" {
		t.Errorf("script %q", got)
	}
	if doc.Find("[data-testid=tile]").Length() != 130 {
		t.Errorf("tiles = %d", doc.Find("[data-testid=tile]").Length())
	}
	if stale := doc.Find("#stale"); stale.Length() != 1 || !stale.Is("[hidden]") {
		t.Error("the stale banner is missing or not hidden at first")
	}
	if got := doc.Find("h1").Text(); got != v.Title {
		t.Errorf("title %q", got)
	}
	if strings.Contains(html, "<script>alert") {
		t.Errorf("unescaped script in the page")
	}
	for n, want := range map[int]string{0: "density-s", 24: "density-s", 25: "density-m", 60: "density-m", 61: "density-l", 120: "density-l", 121: "density-xl", 1000: "density-xl"} {
		if got := Density(n); got != want {
			t.Errorf("Density(%d) = %q, want %q", n, got, want)
		}
	}
}
