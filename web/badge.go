package web

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/walnut-board/walnut/store"
)

// badgeColors are the right half's colours per state.
var badgeColors = map[store.State]string{
	store.StateOK:      "#2e7d32",
	store.StateNotOK:   "#c62828",
	store.StatePending: "#757575",
	store.StateUnknown: "#9e9e9e",
}

// badge serves GET /badge/{slug}.svg: the site's name, its state and its
// 30-day uptime, for READMEs and wikis. It is open without the password
// (see DESIGN.md), so it shows nothing the board's tiles would not.
func (h *Handler) badge(w http.ResponseWriter, r *http.Request) {
	slug, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	s, err := h.store.SiteGetBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err, false)
		return
	}
	now := h.now()
	u, err := h.store.SiteUptime(ctx, s, now.Add(-30*24*time.Hour), now)
	if err != nil {
		h.fail(w, r, err, false)
		return
	}
	right := s.State.Word()
	if right == "" {
		right = string(store.StateUnknown)
	}
	if ratio := u.Ratio(); ratio != nil {
		right += fmt.Sprintf(" · %s 30d", percent(*ratio))
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=60")
	fmt.Fprint(w, badgeSVG(s.Name, right, badgeColors[s.State]))
}

// percent shows a ratio with as many decimals as it needs to not round a
// bad month up to 100 %.
func percent(r float64) string {
	switch {
	case r >= 1:
		return "100%"
	case r >= 0.999:
		return fmt.Sprintf("%.2f%%", min(r*100, 99.99))
	}
	return fmt.Sprintf("%.1f%%", min(r*100, 99.9))
}

// badgeSVG draws a two-part badge. Widths are estimated from the rune count
// (about 7 px a character at 11 px Verdana), as shields do without fonts.
func badgeSVG(left, right, color string) string {
	if color == "" {
		color = badgeColors[store.StateUnknown]
	}
	lw := 10 + 7*utf8.RuneCountInString(left)
	rw := 10 + 7*utf8.RuneCountInString(right)
	l, rt := html.EscapeString(left), html.EscapeString(right)
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%[1]d" height="20" role="img" aria-label="%[4]s: %[5]s">
<title>%[4]s: %[5]s</title>
<rect width="%[2]d" height="20" fill="#555"/>
<rect x="%[2]d" width="%[3]d" height="20" fill="%[6]s"/>
<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
<text x="%[7]d" y="14">%[4]s</text>
<text x="%[8]d" y="14">%[5]s</text>
</g>
</svg>
`, lw+rw, lw, rw, l, rt, html.EscapeString(color), lw/2, lw+rw/2)
}
