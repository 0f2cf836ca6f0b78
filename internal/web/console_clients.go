package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

var authFlows = []string{identity.FlowUserSRP, identity.FlowUserPassword, identity.FlowRefreshToken,
	identity.FlowAdminUserPassword, identity.FlowCustomAuth}
var oauthFlows = []string{identity.OAuthFlowCode, identity.OAuthFlowClientCredentials}

// consoleClients is GET /{pool}/console/clients (pool admins).
func (w *Web) consoleClients(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	list, next, err := w.svc.ListClients(c.ctx, c.pool.ID, 60, r.URL.Query().Get("page"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "clients", map[string]any{"Clients": list, "Next": next,
		"AuthFlows": authFlows, "OAuthFlows": oauthFlows, "Action": c.path("clients"), "Notice": notice(r),
		"Signing": c.path("signing"), "SigningAlg": c.pool.SigningAlg})
}

// consoleSigningAlg is POST /{pool}/console/signing: the pool's signing
// algorithm (ES256 or RS256), as the native API's and apply's signing_alg.
func (w *Web) consoleSigningAlg(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	p, err := w.svc.GetPool(c.ctx, c.pool.ID)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	cp := *p
	cp.SigningAlg = r.PostFormValue("signing_alg")
	if _, err := w.svc.UpdatePool(c.ctx, &cp); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("clients"), "saved")
}

// consoleClientCreate is POST /{pool}/console/clients; the secret (if
// asked for) is shown on the answer page once.
func (w *Web) consoleClientCreate(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	cc, err := w.svc.CreateClient(c.ctx, auth.CreateClientInput{PoolID: c.pool.ID, Name: strings.TrimSpace(r.PostFormValue("name")),
		GenerateSecret: r.PostFormValue("secret") == "yes", AuthFlows: r.PostForm["auth_flow"], OAuthFlows: r.PostForm["oauth_flow"],
		CallbackURLs: lines(r.PostFormValue("callback_urls")), LogoutURLs: lines(r.PostFormValue("logout_urls")),
		OAuthScopes: strings.Fields(r.PostFormValue("scopes"))})
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.renderClient(rw, r, c, cc.Client, cc.Secret, text["console.notice.saved"])
}

// consoleClient is GET /{pool}/console/clients/{id}.
func (w *Web) consoleClient(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	cl, err := w.svc.GetClient(c.ctx, c.pool.ID, r.PathValue("id"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.renderClient(rw, r, c, cl, "", notice(r))
}

func (w *Web) renderClient(rw http.ResponseWriter, r *http.Request, c *consoleReq, cl *identity.AppClient, secret, note string) {
	w.consoleRender(rw, r, c, http.StatusOK, "client", map[string]any{"Title": cl.Name, "C": cl, "Secret": secret,
		"AuthFlows": authFlows, "OAuthFlows": oauthFlows, "Callbacks": strings.Join(cl.CallbackURLs, "\n"),
		"Logouts": strings.Join(cl.LogoutURLs, "\n"), "Scopes": strings.Join(cl.OAuthScopes, " "),
		"Action": c.path("clients", cl.ID), "Regen": c.path("clients", cl.ID, "secret"), "Notice": note})
}

// consoleClientUpdate is POST /{pool}/console/clients/{id}: callback and
// sign-out URLs, flows, scopes, refresh token rotation.
func (w *Web) consoleClientUpdate(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	cl, err := w.svc.GetClient(c.ctx, c.pool.ID, r.PathValue("id"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	cp := *cl
	cp.Name = strings.TrimSpace(r.PostFormValue("name"))
	cp.AuthFlows = r.PostForm["auth_flow"]
	cp.OAuthFlows = r.PostForm["oauth_flow"]
	cp.CallbackURLs = lines(r.PostFormValue("callback_urls"))
	cp.LogoutURLs = lines(r.PostFormValue("logout_urls"))
	cp.OAuthScopes = strings.Fields(r.PostFormValue("scopes"))
	cp.IDTokenSignedResponseAlg = r.PostFormValue("id_token_alg")
	cp.BackchannelLogoutURI = strings.TrimSpace(r.PostFormValue("backchannel_logout_uri"))
	// Refresh token rotation: a select, so a form without it (absent)
	// changes nothing rather than turning rotation off.
	switch r.PostFormValue("refresh_rotation") {
	case "on":
		cp.SetRotates(true)
	case "off":
		cp.SetRotates(false)
	case "":
	default:
		w.consoleError(rw, r, c, identity.FieldError("refresh_rotation", "Refresh token rotation is on or off."))
		return
	}
	if g := strings.TrimSpace(r.PostFormValue("refresh_grace")); g != "" {
		n, err := strconv.Atoi(g)
		if err != nil {
			w.consoleError(rw, r, c, identity.FieldError("refresh_grace", "The retry grace period is a number of seconds, 0 to %d.", identity.MaxRefreshGraceSeconds))
			return
		}
		cp.RefreshGraceSeconds = n // range checked by UpdateClient
	}
	if _, err := w.svc.UpdateClient(c.ctx, &cp); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("clients", cl.ID), "saved")
}

// consoleClientSecretShow is GET /{pool}/console/clients/{id}/secret: the
// confirmation page of a new secret (the old one stops working).
func (w *Web) consoleClientSecretShow(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	cl, err := w.svc.GetClient(c.ctx, c.pool.ID, r.PathValue("id"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "confirm", map[string]any{"Title": text["console.regen"],
		"Question": text["console.regen.q"], "Subject": cl.Name, "Action": c.path("clients", cl.ID, "secret"),
		"Button": text["console.regen"], "Back": c.path("clients", cl.ID)})
}

// consoleClientSecret is POST /{pool}/console/clients/{id}/secret
// (confirm=yes): a new secret, shown once.
func (w *Web) consoleClientSecret(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "yes" {
		consoleBack(rw, r, c.path("clients", id), "")
		return
	}
	cc, err := w.svc.RegenerateClientSecret(c.ctx, c.pool.ID, id)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.renderClient(rw, r, c, cc.Client, cc.Secret, text["console.notice.saved"])
}
