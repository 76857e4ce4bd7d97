package web

import (
	"net/http"

	"github.com/walnut-board/walnut/views"
)

func (h *Handler) site(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, err := h.store.SiteGetBySlug(ctx, r.PathValue("slug"))
	if err != nil {
		h.fail(w, r, err, false)
		return
	}
	probes, err := h.store.ProbeListBySite(ctx, s, 50)
	if err != nil {
		h.fail(w, r, err, false)
		return
	}
	transitions, err := h.store.TransitionListBySite(ctx, s.ID, 50)
	if err != nil {
		h.fail(w, r, err, false)
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
	for _, p := range probes {
		v.Probes = append(v.Probes, views.ProbeRow{
			At: rfc3339(p.At), State: string(p.State), HTTPStatus: httpStatusText(p.HTTPStatus),
			Latency: millis(p.Latency), TTFB: millis(p.TTFB), DNS: millis(p.DNS),
			Connect: millis(p.Connect), TLS: millis(p.TLS), Reason: p.Reason,
		})
	}
	for _, t := range transitions {
		v.Transitions = append(v.Transitions, views.TransitionRow{
			At: rfc3339(t.At), From: string(t.From), To: string(t.To), Reason: t.Reason,
		})
	}
	h.render(w, r, http.StatusOK, views.SitePage(v))
}
