package web

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// The console's MFA pages (docs/mfa.md): the pool's policy (pool admins)
// and a company's "require MFA" switch (its admins, for their own company
// only; the service checks). A user's factors and their reset are on the
// user page (consoleUser, action reset_mfa).

// consoleMFA is GET /{pool}/console/mfa: the pool's MFA policy form.
func (w *Web) consoleMFA(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	m, err := w.svc.GetPoolMFA(c.ctx, c.pool.ID)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "mfa", map[string]any{"Title": text["console.mfa"], "M": m,
		"Modes": []string{"OFF", "OPTIONAL", "ON"}, "Action": c.path("mfa"), "Notice": notice(r)})
}

// consoleMFASave is POST /{pool}/console/mfa.
func (w *Web) consoleMFASave(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	cur, err := w.svc.GetPoolMFA(c.ctx, c.pool.ID)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	m := auth.PoolMFAConfig{Configuration: r.PostFormValue("configuration"), SoftwareTokenDisabled: r.PostFormValue("software_token") != "on",
		Email: r.PostFormValue("email") == "on", TrustUpstreamMFA: r.PostFormValue("trust_upstream_mfa") == "on"}
	if m.Configuration == "" {
		m.Configuration = cur.Mode()
	}
	if _, err := w.svc.SetPoolMFA(c.ctx, c.pool.ID, m); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("mfa"), "saved")
}

// consoleCompanyMFA is POST /{pool}/console/companies/{name}/mfa: the
// company's require_mfa switch.
func (w *Web) consoleCompanyMFA(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	name := r.PathValue("name")
	if err := w.svc.SetCompanyRequireMFA(c.ctx, c.pool.ID, name, r.PostFormValue("require_mfa") == "on"); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("companies", name), "saved")
}
