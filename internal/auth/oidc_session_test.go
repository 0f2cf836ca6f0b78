package auth

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBackchannelLogoutOnlyUsedClients: every way a user's sign-ins all
// end (admin delete — Cognito AdminDeleteUser, the native API, the
// console —, self delete, disable, global sign-out) enqueues, in its own
// transaction, one back-channel logout per session of the user at a
// client with a backchannel_logout_uri, with that session's sid; a client
// the user never signed in to is never named, and another user's sessions
// are not touched.
func TestBackchannelLogoutOnlyUsedClients(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	used := e.oauthClient(true, ScopeOpenID, ScopeEmail, ScopeUserAdmin)
	unused := e.oauthClient(true, ScopeOpenID)
	for _, cl := range []struct{ id, uri string }{{used.ID, "http://127.0.0.1:1/used"}, {unused.ID, "http://127.0.0.1:1/unused"}} {
		c, err := e.s.GetClient(e.ctx, e.pool.ID, cl.id)
		if err != nil {
			t.Fatal(err)
		}
		c.BackchannelLogoutURI = cl.uri
		if _, err := e.s.UpdateClient(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	// enqueued returns the payloads of the back-channel jobs enqueued
	// since the last call.
	enqueued := func() []backchannelPayload {
		t.Helper()
		js, _, err := e.s.ListJobs(e.ctx, e.pool.ID, "", BackchannelLogoutJobKind, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []backchannelPayload
		for _, j := range js[:len(js)-seen] { // newest first
			var pl backchannelPayload
			if err := json.Unmarshal(j.Payload, &pl); err != nil {
				t.Fatal(err)
			}
			out = append(out, pl)
		}
		seen = len(js)
		return out
	}
	want := func(what string, got []backchannelPayload, sub string, sids ...string) {
		t.Helper()
		if len(got) != len(sids) {
			t.Fatalf("%s: %d logout jobs %+v, want %d", what, len(got), got, len(sids))
		}
		m := map[string]bool{}
		for _, pl := range got {
			if pl.ClientID != used.ID || pl.Sub != sub || pl.PoolID != e.pool.ID {
				t.Fatalf("%s: logout job %+v (a client the user did not use, or another user)", what, pl)
			}
			m[pl.SID] = true
		}
		for _, sid := range sids {
			if !m[sid] {
				t.Fatalf("%s: no logout job for session %s in %+v", what, sid, got)
			}
		}
	}
	sidOf := func(tk *Tokens) string { return claimsOf(t, tk.IDToken)["sid"].(string) }

	for _, c := range []struct {
		what string
		end  func(u string, tk *Tokens) error
	}{
		{"global sign-out", func(u string, _ *Tokens) error { return e.s.AdminUserGlobalSignOut(e.ctx, e.pool.ID, u) }},
		{"disable", func(u string, _ *Tokens) error { return e.s.AdminDisableUser(e.ctx, e.pool.ID, u) }},
		{"admin delete", func(u string, _ *Tokens) error { return e.s.AdminDeleteUser(e.ctx, e.pool.ID, u) }},
		{"self delete", func(_ string, tk *Tokens) error { return e.s.DeleteUser(e.ctx, tk.AccessToken) }},
	} {
		name := c.what + "@example.com"
		u := e.confirmedUser(strings.ReplaceAll(name, " ", "-"))
		other := e.confirmedUser(strings.ReplaceAll("other-"+name, " ", "-"))
		t1, _ := e.codeTokens(used, u.Username, "openid email aws.cognito.signin.user.admin")
		t2, _ := e.codeTokens(used, u.Username, "openid")
		e.codeTokens(used, other.Username, "openid")
		enqueued()
		if err := c.end(u.Username, t1); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		want(c.what, enqueued(), u.Sub, sidOf(t1), sidOf(t2))
	}
}
