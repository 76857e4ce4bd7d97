package web

import (
	"net/http"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

func (h *Handler) board(w http.ResponseWriter, r *http.Request) {
	sites, err := h.store.SiteListActive(r.Context())
	if err != nil {
		h.fail(w, r, err, false)
		return
	}
	now := h.now()
	v := views.BoardView{
		Title:   h.title,
		Counts:  map[string]int{},
		Updated: rfc3339(now),
		CSSPath: h.assets.Path("walnut.css"),
	}
	groupIndex := map[string]int{}
	for _, s := range sites {
		i, ok := groupIndex[s.Group]
		if !ok {
			i = len(v.Groups)
			groupIndex[s.Group] = i
			v.Groups = append(v.Groups, views.GroupView{Name: s.Group})
		}
		v.Groups[i].Tiles = append(v.Groups[i].Tiles, h.tileView(s))
		v.Counts[string(s.State)]++
	}
	h.render(w, r, http.StatusOK, views.BoardPage(v))
}

func (h *Handler) tileView(s store.Site) views.TileView {
	t := views.TileView{Slug: s.Slug, Name: s.Name, State: string(s.State), Reason: s.Reason}
	if s.Since != nil {
		t.For = ago(h.now().Sub(*s.Since))
	}
	if s.CheckedAt != nil {
		t.Checked = rfc3339(*s.CheckedAt)
	}
	return t
}
