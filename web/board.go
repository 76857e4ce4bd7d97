package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

// Roster is what the board needs of the support roster; *store.Store has it.
type Roster interface {
	RosterBetween(ctx context.Context, from, to time.Time) ([]store.Shift, error)
}

func (h *Handler) board(w http.ResponseWriter, r *http.Request) {
	// A kiosk opens /?kiosk=TOKEN once; the cookie keeps it, and the
	// redirect takes the token out of the address bar.
	if h.kiosk.TokenInQuery(r) {
		h.kiosk.Remember(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	sites, err := h.store.SiteListActive(ctx)
	if err != nil {
		h.boardUnavailable(w, r, err)
		return
	}
	now := h.now()
	support, err := readSupport(ctx, h.roster, now)
	if err != nil {
		h.boardUnavailable(w, r, err)
		return
	}
	h.outage.ended()
	alerts, err := readAlerts(ctx, h.notify, h.storage, now)
	if err != nil {
		// The board is worth showing without its footer.
		h.logger.WarnContext(ctx, "board: read alert health", "error", err)
	}
	groups, summary := boardTiles(sites, now)
	v := h.boardShell(r, now)
	v.Groups, v.Summary, v.Support, v.Alerts = groups, summary, support, alerts
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, views.BoardPage(v))
}

// boardShell is the board page before its content: the heading, the time,
// this server, and what the page's script needs. A board that could not be
// read (boardUnavailable) is the same shell with a banner.
func (h *Handler) boardShell(r *http.Request, now time.Time) views.BoardView {
	v := views.BoardView{
		Title:      h.title,
		Updated:    rfc3339(now),
		UpdatedAt:  now.UTC().Format("15:04:05") + " UTC",
		Version:    h.version,
		Instance:   h.boot,
		Kiosk:      h.kiosk.Allowed(r),
		CSSPath:    h.assets.Path("walnut.css"),
		ScriptPath: h.assets.Path("board.js"),
	}
	if h.hub != nil {
		v.EventsPath = "/events"
	}
	return v
}

// boardTiles groups the sites' tiles in config order and sums them up.
func boardTiles(sites []store.Site, now time.Time) ([]views.GroupView, views.SummaryView) {
	var groups []views.GroupView
	groupIndex := map[string]int{}
	for _, s := range sites {
		i, ok := groupIndex[s.Group]
		if !ok {
			i = len(groups)
			groupIndex[s.Group] = i
			groups = append(groups, views.GroupView{Name: s.Group})
		}
		groups[i].Tiles = append(groups[i].Tiles, tileView(s, now))
	}
	return groups, boardSummary(sites, now)
}

// boardSummary counts the states and lists the failing sites, longest down
// first, so that the strip's order stays put as sites fail.
func boardSummary(sites []store.Site, now time.Time) views.SummaryView {
	sum := views.SummaryView{Counts: map[string]int{}, Total: len(sites)}
	var failing []store.Site
	for _, s := range sites {
		sum.Counts[string(s.State)]++
		if s.State == store.StateNotOK {
			failing = append(failing, s)
		}
	}
	slices.SortStableFunc(failing, func(a, b store.Site) int {
		return cmp.Compare(sinceKey(a), sinceKey(b))
	})
	for _, s := range failing {
		sum.Failing = append(sum.Failing, tileView(s, now))
	}
	return sum
}

func sinceKey(s store.Site) int64 {
	if s.Since == nil {
		return 1<<63 - 1
	}
	return s.Since.UnixNano()
}

func tileView(s store.Site, now time.Time) views.TileView {
	t := views.TileView{
		Slug: s.Slug, Name: s.Name, State: string(s.State), Reason: s.Reason,
		Interval: int((s.Interval + time.Second - 1) / time.Second),
	}
	if s.Since != nil {
		t.For = ago(now.Sub(*s.Since))
		t.Since = rfc3339(*s.Since)
	}
	if s.CheckedAt != nil {
		t.Checked = rfc3339(*s.CheckedAt)
	}
	t.Cert = certLine(s, now)
	if t.Cert != "" {
		t.CertShort = certShort(s.Cert.Left(now))
	}
	return t
}

// certShort is the certificate line in a few words, for narrow tiles:
// "cert: 9 days left", "cert expired".
func certShort(left time.Duration) string {
	if left < 0 {
		return "cert expired"
	}
	return "cert: " + store.ExpirySpan(left) + " left"
}

// certLine is a green tile's certificate warning, once the site's
// cert_warning has begun; "" otherwise. A red tile's reason says it.
func certLine(s store.Site, now time.Time) string {
	if s.State != store.StateOK || s.Cert == nil || !s.Cert.Warning(now) {
		return ""
	}
	return store.ExpiryText(s.Cert.Left(now))
}

// readSupport is who is on the roster today, the server's local day. With
// no roster configured, nobody is.
func readSupport(ctx context.Context, roster Roster, now time.Time) (views.SupportView, error) {
	if roster == nil {
		return views.SupportView{}, nil
	}
	today := now.In(time.Local)
	shifts, err := roster.RosterBetween(ctx, today, today)
	if err != nil {
		return views.SupportView{}, err
	}
	var v views.SupportView
	var people, contacts []string
	for _, s := range store.OnSupport(shifts, today) {
		people = append(people, s.Person)
		if s.Contact != "" {
			contacts = append(contacts, s.Contact)
		}
		v.Until = s.End.Format("Mon 2 Jan")
	}
	v.Person = strings.Join(people, " & ")
	v.Contact = strings.Join(contacts, " · ")
	// A roster PagerDuty fills may be behind: say since when. The board
	// is worth showing without it.
	if syncs, err := readRosterSyncs(ctx, roster); err == nil {
		v.AsOf = rosterAsOf(syncs, now)
	}
	return v, nil
}
