package e2e_test

import (
	"net/url"
	"testing"
)

type sessionsBody struct {
	Sessions []struct {
		ID       string `json:"id"`
		ClientID string `json:"client_id"`
		IP       string `json:"ip"`
		Current  bool   `json:"current"`
	} `json:"sessions"`
}

// TestSessionsNative: a user lists their sign-ins (their own marked
// current) and ends one, whose access token is then refused; another
// user's token cannot see or end them; an administrator lists and ends
// a user's sessions.
func TestSessionsNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("sessions")
	P := "/api/v1/pools/" + poolID
	for _, u := range []string{"pia@example.org", "bob@example.org"} {
		e.must(201, e.admin("POST", P+"/users", map[string]any{"username": u, "attributes": map[string]string{"email_verified": "true"}, "message_action": "SUPPRESS"}))
		e.must(204, e.admin("PUT", P+"/users/"+url.PathEscape(u)+"/password", map[string]any{"password": goodPassword, "permanent": true}))
	}
	laptop, phone, third := "Bearer "+e.signInAccess(clientID, "pia@example.org"), "Bearer "+e.signInAccess(clientID, "pia@example.org"),
		"Bearer "+e.signInAccess(clientID, "pia@example.org")
	bob := "Bearer " + e.signInAccess(clientID, "bob@example.org")

	var list sessionsBody
	e.must(200, e.do("GET", "/api/v1/me/sessions", laptop, nil)).json(t, &list)
	if len(list.Sessions) != 3 {
		t.Fatalf("sessions %+v", list)
	}
	var phoneID string
	current := 0
	for _, s := range list.Sessions {
		if s.Current {
			current++
		}
		if s.ClientID != clientID || s.IP != "127.0.0.1" {
			t.Fatalf("session %+v", s)
		}
	}
	phoneID = currentSession(t, e, phone)
	if current != 1 || phoneID == "" {
		t.Fatalf("current marks: %d %q", current, phoneID)
	}

	// Bob cannot end Pia's session, nor see it.
	if p := e.do("DELETE", "/api/v1/me/sessions/"+phoneID, bob, nil).problem(t); p.Status != 404 || p.Code != "resource_not_found" {
		t.Fatalf("bob ends pia's session: %+v", p)
	}
	var bobs sessionsBody
	e.must(200, e.do("GET", "/api/v1/me/sessions", bob, nil)).json(t, &bobs)
	if len(bobs.Sessions) != 1 || bobs.Sessions[0].ID == phoneID {
		t.Fatalf("bob's sessions %+v", bobs)
	}
	e.must(200, e.do("GET", "/api/v1/me/sessions", phone, nil))

	// Pia ends the phone's session from the laptop: the phone's access
	// token is refused at once.
	e.must(204, e.do("DELETE", "/api/v1/me/sessions/"+phoneID, laptop, nil))
	if p := e.do("GET", "/api/v1/me/sessions", phone, nil).problem(t); p.Status != 401 {
		t.Fatalf("the ended session's token: %+v", p)
	}

	// The administrator sees the two left and ends the third.
	e.must(200, e.admin("GET", P+"/users/pia%40example.org/sessions", nil)).json(t, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("admin list %+v", list)
	}
	thirdID := currentSession(t, e, third)
	if p := e.admin("DELETE", P+"/users/bob%40example.org/sessions/"+thirdID, nil).problem(t); p.Status != 404 {
		t.Fatalf("ending pia's session as bob's: %+v", p)
	}
	e.must(204, e.admin("DELETE", P+"/users/pia%40example.org/sessions/"+thirdID, nil))
	if p := e.do("GET", "/api/v1/me/sessions", third, nil).problem(t); p.Status != 401 {
		t.Fatalf("the ended session's token: %+v", p)
	}
	e.must(200, e.do("GET", "/api/v1/me/sessions", laptop, nil))
}

// currentSession is the id of the session the access token auth belongs to.
func currentSession(t *testing.T, e *env, auth string) string {
	t.Helper()
	var own sessionsBody
	e.must(200, e.do("GET", "/api/v1/me/sessions", auth, nil)).json(t, &own)
	for _, s := range own.Sessions {
		if s.Current {
			return s.ID
		}
	}
	t.Fatalf("no current session: %+v", own)
	return ""
}
