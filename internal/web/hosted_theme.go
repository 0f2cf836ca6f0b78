package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// themeCSS is GET /{pool}/theme.css: the pool's colours as CSS custom
// properties, then its extra CSS (checked by identity.Theme.Validate when
// the pool was written). A stylesheet of its own, so the pages need no
// inline style.
func (w *Web) themeCSS(rw http.ResponseWriter, r *http.Request) {
	p, err := w.svc.GetPool(r.Context(), r.PathValue("pool"))
	if err != nil {
		http.NotFound(rw, r)
		return
	}
	t := p.Settings.Theme
	var b strings.Builder
	b.WriteString(":root{")
	for _, c := range []struct{ name, v string }{{"--gh-primary", t.Primary}, {"--gh-bg", t.Background}, {"--gh-text", t.Text}} {
		if identity.IsHexColor(c.v) {
			fmt.Fprintf(&b, "%s:%s;", c.name, c.v)
		}
	}
	b.WriteString("}\n")
	if t.Validate() == nil { // re-checked: never serve what validation refuses
		b.WriteString(t.CSS)
	}
	rw.Header().Set("Content-Type", "text/css; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-cache")
	_, _ = rw.Write([]byte(b.String()))
}

// allow applies the per-address rate limit of action (login, signup,
// forgot, confirm) on h's pool.
func (w *Web) allow(rw http.ResponseWriter, r *http.Request, action string, h *hostedReq) bool {
	l := w.limits[action]
	if l == nil {
		return true
	}
	if l.allow(limitKey(h.pool.ID, r), w.opts.Now()) {
		return true
	}
	rw.Header().Set("Retry-After", "10")
	return false
}
