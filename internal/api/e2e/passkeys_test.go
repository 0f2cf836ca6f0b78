package e2e_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/testenv/softauthn"
)

// TestPasskeysNative: a user enrols a passkey through /api/v1/me/passkeys,
// lists it, signs in with it alone through /api/v1/auth/passkey (the ID
// token says amr hwk), another user's token cannot remove it, and its own
// fresh token can.
func TestPasskeysNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("passkeys")
	P := "/api/v1/pools/" + poolID
	for _, u := range []string{"pia@example.org", "bob@example.org"} {
		e.must(201, e.admin("POST", P+"/users", map[string]any{"username": u, "attributes": map[string]string{"email_verified": "true"}, "message_action": "SUPPRESS"}))
		e.must(204, e.admin("PUT", P+"/users/"+url.PathEscape(u)+"/password", map[string]any{"password": goodPassword, "permanent": true}))
	}
	pia, bob := "Bearer "+e.signInAccess(clientID, "pia@example.org"), "Bearer "+e.signInAccess(clientID, "bob@example.org")

	var opts struct{ Options json.RawMessage }
	e.must(200, e.do("POST", "/api/v1/me/passkeys/options", pia, nil)).json(t, &opts)
	a := softauthn.New(t, baseURL)
	var pk struct {
		ID   string
		Name string
		RPID string `json:"rp_id"`
	}
	e.must(201, e.do("POST", "/api/v1/me/passkeys", pia, map[string]any{"credential": json.RawMessage(a.Create(opts.Options)), "name": "key"})).json(t, &pk)
	if pk.ID != a.CredentialID() || pk.Name != "key" || pk.RPID != "id.example.test" {
		t.Fatalf("passkey %+v", pk)
	}
	var list struct{ Passkeys []struct{ ID string } }
	e.must(200, e.do("GET", "/api/v1/me/passkeys", pia, nil)).json(t, &list)
	if len(list.Passkeys) != 1 {
		t.Fatalf("list %+v", list)
	}
	if p := e.do("POST", "/api/v1/me/passkeys", pia, map[string]any{"credential": json.RawMessage(a.Create(opts.Options))}).problem(t); p.Code != "webauthn_challenge_not_found" || p.Status != 400 {
		t.Fatalf("replayed registration: %+v", p)
	}

	e.must(200, e.do("POST", "/api/v1/auth/passkey/options", "", map[string]any{"client_id": clientID})).json(t, &opts)
	var toks struct {
		IDToken string `json:"id_token"`
	}
	e.must(200, e.do("POST", "/api/v1/auth/passkey", "", map[string]any{"client_id": clientID, "credential": json.RawMessage(a.Get(opts.Options))})).json(t, &toks)
	if amr := testenv.Claims(t, toks.IDToken)["amr"]; amr == nil || amr.([]any)[0] != "hwk" {
		t.Fatalf("amr %v", amr)
	}
	if p := e.do("POST", "/api/v1/auth/passkey", "", map[string]any{"client_id": clientID, "credential": json.RawMessage(a.Get(opts.Options))}).problem(t); p.Status != 400 {
		t.Fatalf("replayed sign-in: %+v", p)
	}

	if p := e.do("DELETE", "/api/v1/me/passkeys/"+a.CredentialID(), bob, nil).problem(t); p.Status != 404 {
		t.Fatalf("bob deletes pia's passkey: %+v", p)
	}
	e.must(204, e.do("DELETE", "/api/v1/me/passkeys/"+a.CredentialID(), pia, nil))
	e.must(200, e.do("GET", "/api/v1/me/passkeys", pia, nil)).json(t, &list)
	if len(list.Passkeys) != 0 {
		t.Fatalf("list after delete %+v", list)
	}
}
