package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/walnut-board/walnut/store"
)

// siteJSON is a site in the API, as the contract names its fields.
type siteJSON struct {
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	Group     string   `json:"group"`
	State     string   `json:"state"`
	Reason    string   `json:"reason"`
	Since     *string  `json:"since"`
	CheckedAt *string  `json:"checked_at"`
	LatencyMS *float64 `json:"latency_ms"`
	TTFBMS    *float64 `json:"ttfb_ms"`
}

type siteDetailJSON struct {
	siteJSON
	URL     string              `json:"url"`
	Retired bool                `json:"retired"`
	Uptime  map[string]*float64 `json:"uptime"`
	// Cert is the certificate the site last presented; null for sites
	// without TLS or before the first handshake.
	Cert *certJSON `json:"cert"`
}

type certJSON struct {
	ExpiresAt string `json:"expires_at"`
	Issuer    string `json:"issuer"`
}

type probeJSON struct {
	At         string  `json:"at"`
	State      string  `json:"state"`
	HTTPStatus *int    `json:"http_status"`
	LatencyMS  float64 `json:"latency_ms"`
	TTFBMS     float64 `json:"ttfb_ms"`
	DNSMS      float64 `json:"dns_ms"`
	ConnectMS  float64 `json:"connect_ms"`
	TLSMS      float64 `json:"tls_ms"`
	Reason     string  `json:"reason"`
}

type transitionJSON struct {
	At     string `json:"at"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// uptimeWindows are the windows of the uptime object, by their contract names.
var uptimeWindows = []struct {
	name string
	span time.Duration
}{
	{"24h", 24 * time.Hour},
	{"7d", 7 * 24 * time.Hour},
	{"30d", 30 * 24 * time.Hour},
	{"90d", 90 * 24 * time.Hour},
}

func toSiteJSON(s store.Site) siteJSON {
	j := siteJSON{Slug: s.Slug, Name: s.Name, Group: s.Group, State: string(s.State), Reason: s.Reason}
	if s.Since != nil {
		v := rfc3339(*s.Since)
		j.Since = &v
	}
	if s.CheckedAt != nil {
		v := rfc3339(*s.CheckedAt)
		j.CheckedAt = &v
		lat, ttfb := ms(s.Latency), ms(s.TTFB)
		j.LatencyMS, j.TTFBMS = &lat, &ttfb
	}
	return j
}

func (h *Handler) apiSites(w http.ResponseWriter, r *http.Request) {
	sites, err := h.store.SiteListActive(r.Context())
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	out := make([]siteJSON, len(sites))
	for i, s := range sites {
		out[i] = toSiteJSON(s)
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

func (h *Handler) apiSite(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, ok := h.pathSite(w, r)
	if !ok {
		return
	}
	out := siteDetailJSON{siteJSON: toSiteJSON(s), URL: s.URL, Retired: s.Retired, Uptime: map[string]*float64{}}
	if s.Cert != nil {
		out.Cert = &certJSON{ExpiresAt: rfc3339(s.Cert.ExpiresAt), Issuer: s.Cert.Issuer}
	}
	now := h.now()
	var longest time.Duration
	for _, win := range uptimeWindows {
		longest = max(longest, win.span)
	}
	hist, err := h.store.SiteHistory(ctx, s, now.Add(-longest), now)
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	for _, win := range uptimeWindows {
		u, err := hist.Uptime(ctx, now.Add(-win.span), now)
		if err != nil {
			h.fail(w, r, err, true)
			return
		}
		out.Uptime[win.name] = u.Ratio()
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// pathSite looks up the site the path's {slug} names. When there is no
// such site, or the lookup fails, it has answered the request and ok is
// false. Handlers read their query first, so that a bad parameter is a 400
// whether or not the site exists.
func (h *Handler) pathSite(w http.ResponseWriter, r *http.Request) (s store.Site, ok bool) {
	s, err := h.store.SiteGetBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		h.fail(w, r, err, true)
		return store.Site{}, false
	}
	return s, true
}

// pathSiteLimit is pathSite for the listings, after ?limit=.
func (h *Handler) pathSiteLimit(w http.ResponseWriter, r *http.Request) (s store.Site, limit int, ok bool) {
	limit, err := limitParam(r, 100)
	if err != nil {
		h.fail(w, r, err, true)
		return store.Site{}, 0, false
	}
	s, ok = h.pathSite(w, r)
	return s, limit, ok
}

// limitParam reads ?limit=N: default def, at most 1000.
func limitParam(r *http.Request, def int) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 1000 {
		return 0, badRequest{msg: "limit must be a whole number from 1 to 1000"}
	}
	return n, nil
}

func (h *Handler) apiProbes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, limit, ok := h.pathSiteLimit(w, r)
	if !ok {
		return
	}
	probes, err := h.store.ProbeListBySite(ctx, s, limit)
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	out := make([]probeJSON, len(probes))
	for i, p := range probes {
		out[i] = probeJSON{
			At: rfc3339(p.At), State: string(p.State),
			LatencyMS: ms(p.Latency), TTFBMS: ms(p.TTFB), DNSMS: ms(p.DNS),
			ConnectMS: ms(p.Connect), TLSMS: ms(p.TLS), Reason: p.Reason,
		}
		if p.HTTPStatus != 0 {
			code := p.HTTPStatus
			out[i].HTTPStatus = &code
		}
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

func (h *Handler) apiTransitions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, limit, ok := h.pathSiteLimit(w, r)
	if !ok {
		return
	}
	trs, err := h.store.TransitionListBySite(ctx, s.ID, limit)
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	out := make([]transitionJSON, len(trs))
	for i, t := range trs {
		out[i] = transitionJSON{At: rfc3339(t.At), From: string(t.From), To: string(t.To), Reason: t.Reason}
	}
	h.writeJSON(w, r, http.StatusOK, out)
}
