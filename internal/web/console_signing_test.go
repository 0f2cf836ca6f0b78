package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleSigningAlgorithms: a pool admin chooses the pool's signing
// algorithm and a client's id_token_signed_response_alg in the console,
// as the native API and apply do; the new algorithm's keys are in the
// JWKS at once; anything but ES256/RS256 is a 400 that changes nothing;
// a company admin cannot change either.
func TestConsoleSigningAlgorithms(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	b := e.consoleLogin("root@example.org")
	sign := "/" + e.pool.ID + "/console/signing"
	if alg := e.storedPool().SigningAlg; alg != "ES256" {
		t.Fatalf("the pool starts with %s", alg)
	}

	page := must(t, b.get(e.console("clients")), http.StatusOK)
	contains(t, page, `name="signing_alg"`, `<option value="ES256" selected>`)
	csrf := formCSRF(t, page, sign)
	must(t, b.post(e.base+sign, url.Values{"csrf": {csrf}, "signing_alg": {"HS256"}}), http.StatusBadRequest)
	if alg := e.storedPool().SigningAlg; alg != "ES256" {
		t.Fatalf("a refused algorithm was stored: %s", alg)
	}
	must(t, b.post(e.base+sign, url.Values{"csrf": {csrf}, "signing_alg": {"RS256"}}), http.StatusSeeOther)
	if alg := e.storedPool().SigningAlg; alg != "RS256" {
		t.Fatalf("pool signing algorithm %s, want RS256", alg)
	}
	jwks, err := e.svc.JWKS(ctx, e.pool.ID)
	if err != nil || !strings.Contains(string(jwks), `"RS256"`) || !strings.Contains(string(jwks), `"ES256"`) {
		t.Fatalf("JWKS after the change (both algorithms' keys): %v %s", err, jwks)
	}
	contains(t, must(t, b.get(e.console("clients")), http.StatusOK), `<option value="RS256" selected>`)

	// The client's ID token algorithm.
	cpath := "/" + e.pool.ID + "/console/clients/" + e.clientID
	cp := must(t, b.get(e.base+cpath), http.StatusOK)
	cl, err := e.svc.GetClient(ctx, e.pool.ID, e.clientID)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"csrf": {formCSRF(t, cp, cpath)}, "name": {cl.Name}, "auth_flow": cl.AuthFlows, "oauth_flow": cl.OAuthFlows,
		"callback_urls": {strings.Join(cl.CallbackURLs, "\n")}, "logout_urls": {strings.Join(cl.LogoutURLs, "\n")},
		"scopes": {strings.Join(cl.OAuthScopes, " ")}, "id_token_alg": {"none"}}
	must(t, b.post(e.base+cpath, form), http.StatusBadRequest)
	form.Set("id_token_alg", "ES256")
	must(t, b.post(e.base+cpath, form), http.StatusSeeOther)
	if cl, err = e.svc.GetClient(ctx, e.pool.ID, e.clientID); err != nil || cl.IDTokenSignedResponseAlg != "ES256" {
		t.Fatalf("client id_token_signed_response_alg: %v %q", err, cl.IDTokenSignedResponseAlg)
	}
	contains(t, must(t, b.get(e.base+cpath), http.StatusOK), `<option value="ES256" selected>`)
	if !cl.Rotates() {
		t.Fatal("a form without refresh_rotation turned rotation off")
	}

	// Refresh token rotation and its grace period.
	contains(t, must(t, b.get(e.base+cpath), http.StatusOK), `<option value="on" selected>`)
	for _, bad := range []url.Values{{"refresh_rotation": {"maybe"}}, {"refresh_grace": {"61"}}, {"refresh_grace": {"ten"}}} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		for k, v := range bad {
			f[k] = v
		}
		must(t, b.post(e.base+cpath, f), http.StatusBadRequest)
	}
	form.Set("refresh_rotation", "off")
	form.Set("refresh_grace", "15")
	must(t, b.post(e.base+cpath, form), http.StatusSeeOther)
	if cl, err = e.svc.GetClient(ctx, e.pool.ID, e.clientID); err != nil || cl.Rotates() || cl.RefreshGraceSeconds != 15 {
		t.Fatalf("client rotation after the form: %v %+v", err, cl)
	}
	page = must(t, b.get(e.base+cpath), http.StatusOK)
	contains(t, page, `<option value="off" selected>`)
	contains(t, page, `value="15"`)
	form.Set("refresh_rotation", "on")
	must(t, b.post(e.base+cpath, form), http.StatusSeeOther)
	if cl, err = e.svc.GetClient(ctx, e.pool.ID, e.clientID); err != nil || !cl.Rotates() {
		t.Fatalf("client rotation back on: %v %+v", err, cl)
	}

	// A company admin: forbidden, nothing changes.
	carol := e.consoleLogin("carol@acme.example")
	if r := carol.post(e.base+sign, url.Values{"csrf": {csrf}, "signing_alg": {"ES256"}}); r.status != http.StatusForbidden {
		t.Fatalf("company admin: %d", r.status)
	}
	if alg := e.storedPool().SigningAlg; alg != "RS256" {
		t.Fatalf("a company admin changed the algorithm to %s", alg)
	}
}
