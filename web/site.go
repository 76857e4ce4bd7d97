package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/walnut-board/walnut/store"

	"github.com/walnut-board/walnut/views"
)

func (h *Handler) site(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, err := h.store.SiteGetBySlug(ctx, r.PathValue("slug"))
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	probes, err := h.store.ProbeListBySite(ctx, s, 50)
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	transitions, err := h.store.TransitionListBySite(ctx, s.ID, 500)
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	v := views.SiteView{
		Title:   s.Name + " · " + h.title,
		Slug:    s.Slug,
		Name:    s.Name,
		Group:   s.Group,
		URL:     s.URL,
		State:   string(s.State),
		Reason:  s.Reason,
		Retired: s.Retired,
		CSSPath: h.assets.Path("walnut.css"),
	}
	if s.Since != nil {
		v.For = ago(h.now().Sub(*s.Since))
	}
	if c := s.Cert; c != nil {
		now := h.now()
		v.Cert = &views.CertView{
			ExpiresAt: rfc3339(c.ExpiresAt), ExpiresIn: store.ExpiryText(c.Left(now)),
			Issuer: c.Issuer, Subject: c.Subject, FirstSeen: rfc3339(c.FirstSeen), LastSeen: rfc3339(c.LastSeen),
			Warning: c.Warning(now) || c.Left(now) <= 0, Insecure: !c.Verified,
		}
	}
	for _, p := range probes {
		v.Probes = append(v.Probes, views.ProbeRow{
			At: rfc3339(p.At), State: string(p.State), HTTPStatus: httpStatusText(p.HTTPStatus),
			Latency: millis(p.Latency), TTFB: millis(p.TTFB), DNS: millis(p.DNS),
			Connect: millis(p.Connect), TLS: millis(p.TLS), Reason: p.Reason,
		})
	}
	for _, t := range transitions[:min(len(transitions), 50)] {
		v.Transitions = append(v.Transitions, views.TransitionRow{
			At: rfc3339(t.At), From: string(t.From), To: string(t.To), Reason: t.Reason,
		})
	}
	if v.History, err = h.siteHistory(r, s, transitions); err != nil {
		h.failPage(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.SitePage(v))
}

// siteRanges are the range picker's choices, with the step each is drawn at.
var siteRanges = []struct {
	name string
	span time.Duration
	step time.Duration
}{
	{"24h", 24 * time.Hour, 15 * time.Minute},
	{"7d", 7 * 24 * time.Hour, time.Hour},
	{"30d", 30 * 24 * time.Hour, 6 * time.Hour},
	{"90d", 90 * 24 * time.Hour, 24 * time.Hour},
}

// siteHistory builds the history part of the site page: uptime windows,
// charts over ?range= (default 24h), the 90-day strip and the outages.
// Everything comes from store's history (hours, blocks and the last hour's
// raw probes) and trs, the site's newest transitions that the page's table
// already read.
func (h *Handler) siteHistory(r *http.Request, s store.Site, trs []store.Transition) (views.HistoryView, error) {
	ctx := r.Context()
	now := h.now()
	rng := siteRanges[0]
	for _, c := range siteRanges {
		if c.name == r.URL.Query().Get("range") {
			rng = c
		}
	}
	v := views.HistoryView{
		Range:       rng.name,
		EchartsPath: h.assets.Path("echarts.min.js"),
		HistoryCSS:  h.assets.Path("history.css"),
	}
	// Every window ends now, and the longest range's chart starts before
	// the strip and every other window: one read of the site's raw probes
	// serves them all.
	stripFrom := now.Add(-89 * 24 * time.Hour).Truncate(24 * time.Hour)
	longest := siteRanges[len(siteRanges)-1]
	hist, err := h.store.SiteHistory(ctx, s, now.Add(-longest.span).Truncate(longest.step), now)
	if err != nil {
		return v, err
	}
	for _, c := range siteRanges {
		v.Ranges = append(v.Ranges, views.RangeLink{Label: c.name, Href: "?range=" + c.name, Current: c.name == rng.name})
		u, err := hist.Uptime(ctx, now.Add(-c.span), now)
		if err != nil {
			return v, err
		}
		cell := uptimeCell(c.name, u)
		v.Windows = append(v.Windows, cell)
		if c.name == rng.name {
			v.RangeUptime = cell
		}
	}
	// Buckets start on multiples of the step (quarter hours for 24h), as a
	// reader of the chart expects, and so whole quarter hours come from the
	// blocks' quarter-hour sums without unpacking them.
	from := now.Add(-rng.span).Truncate(rng.step)
	buckets, err := hist.Series(ctx, from, now, rng.step)
	if err != nil {
		return v, err
	}
	v.NoData = true
	for _, b := range buckets {
		if b.Probes > 0 || b.OK+b.NotOK+b.Pending > 0 {
			v.NoData = false
		}
	}
	v.Latency = h.latencyChart(buckets, rng.step)
	v.Phases = h.phaseChart(buckets, rng.step)
	q := url.Values{"from": {rfc3339(from)}, "to": {rfc3339(now)}, "step": {rng.step.String()}}
	base := "/api/v1/sites/" + url.PathEscape(s.Slug) + "/series?"
	v.SeriesJSON = base + q.Encode()
	q.Set("format", "csv")
	v.SeriesCSV = base + q.Encode()

	// The 90d range is drawn in the strip's days: its chart holds them.
	days := stripDays(buckets, rng.step, stripFrom)
	if days == nil {
		if days, err = hist.Series(ctx, stripFrom, now, 24*time.Hour); err != nil {
			return v, err
		}
	}
	for _, d := range days {
		v.Strip = append(v.Strip, dayCell(d))
	}

	v.Outages = outages(trs, now.Add(-rng.span), now)
	return v, nil
}

// stripDays is the part of a range chart's buckets that the strip shows
// (days from stripFrom to the end), or nil when the chart is not in days.
// A bucket's figures depend only on its own span, so they are the strip's.
func stripDays(buckets []store.Bucket, step time.Duration, stripFrom time.Time) []store.Bucket {
	if step != 24*time.Hour {
		return nil
	}
	for i, b := range buckets {
		if b.At.Equal(stripFrom) {
			return buckets[i:]
		}
	}
	return nil
}

func uptimeCell(label string, u store.Uptime) views.UptimeCell {
	c := views.UptimeCell{Label: label, Value: "–"}
	if r := u.Ratio(); r != nil {
		c.Value = percent(*r)
	}
	if u.Pending > 0 {
		c.Pending = ago(u.Pending)
	}
	return c
}

// dayCell colours a day of the strip: green from 99.9 %, amber from 99 %,
// red below; grey when only pending, blank without data.
func dayCell(b store.Bucket) views.DayCell {
	date := b.At.UTC().Format("2006-01-02")
	r := b.Ratio()
	switch {
	case r == nil && b.Pending > 0:
		return views.DayCell{Date: date, Class: "pending", Title: date + ": pending"}
	case r == nil:
		return views.DayCell{Date: date, Class: "none", Title: date + ": no data"}
	}
	class := "bad"
	switch {
	case *r >= 0.999:
		class = "ok"
	case *r >= 0.99:
		class = "warn"
	}
	title := date + ": " + percent(*r) + " up"
	if b.NotOK > 0 {
		title += ", down " + ago(b.NotOK)
	}
	return views.DayCell{Date: date, Class: class, Title: title}
}

// outages pairs each change to notok with the next change away from it,
// newest first, keeping those that overlap [from, to).
func outages(trs []store.Transition, from, to time.Time) []views.OutageRow {
	var out []views.OutageRow
	// trs is newest first: walking it, end is the change that ended the
	// outage found next.
	var end *store.Transition
	for i := range trs {
		t := trs[i]
		if t.To == store.StateNotOK {
			stop := to
			row := views.OutageRow{Start: rfc3339(t.At), Reason: t.Reason}
			if end != nil {
				stop = end.At
				row.End = rfc3339(end.At)
			}
			row.Duration = ago(stop.Sub(t.At))
			if stop.After(from) && t.At.Before(to) {
				out = append(out, row)
			}
		}
		if t.From == store.StateNotOK {
			tt := t
			end = &tt
		} else if t.To == store.StateNotOK {
			end = nil
		}
	}
	return out
}
