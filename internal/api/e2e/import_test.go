package e2e_test

import (
	"fmt"
	"strings"
	"testing"
)

// POST /api/v1/pools/{pool}/users/import takes users with another system's
// password hash, who then sign in with their old password; a user in no
// accepted form is reported by index and nothing of it is written; too
// many users is a 400, a body over the size cap a 413 that writes nothing.
func TestImportUsersNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("imp")
	// Firebase's own example (github.com/firebase/scrypt README): the
	// project's parameters and one exported user.
	firebase := "$firebase-scrypt$r=8,m=14$Bw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==" +
		"$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
	var rep struct {
		Created, Replaced, Skipped int
		Failed                     []struct {
			Index          int
			Username, Code string
			Field          string
		}
	}
	e.must(200, e.admin("POST", "/api/v1/pools/"+poolID+"/users/import", map[string]any{"users": []map[string]any{
		{"username": "fb@example.com", "email": "fb@example.com", "email_verified": true, "status": "CONFIRMED", "enabled": true, "password_hash": firebase},
		{"username": "bad@example.com", "email": "bad@example.com", "enabled": true, "password_hash": "sha1$abc$def"},
		{"username": "plain@example.com", "email": "plain@example.com", "email_verified": true, "enabled": true},
	}})).json(t, &rep)
	if rep.Created != 2 || len(rep.Failed) != 1 || rep.Failed[0].Index != 1 || rep.Failed[0].Code != "invalid_parameter" || rep.Failed[0].Field != "password_hash" {
		t.Fatalf("report %+v", rep)
	}
	if n := e.userCount(poolID); n != 2 {
		t.Fatalf("%d users", n)
	}
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": clientID, "username": "fb@example.com", "password": "user1password"}))
	// The second sign-in runs on the argon2id hash that replaced it.
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": clientID, "username": "fb@example.com", "password": "user1password"}))
	if p := e.must(401, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": clientID, "username": "fb@example.com", "password": "user2password"})); !strings.Contains(string(p.body), "not_authorized") {
		t.Fatalf("wrong password: %s", p.body)
	}
	// Imported again: skipped.
	e.must(200, e.admin("POST", "/api/v1/pools/"+poolID+"/users/import", map[string]any{"users": []map[string]any{
		{"username": "fb@example.com", "email": "fb@example.com", "enabled": true}}})).json(t, &rep)
	if rep.Skipped != 1 || rep.Created != 0 {
		t.Fatalf("re-import %+v", rep)
	}

	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = map[string]any{"username": fmt.Sprintf("u%d@example.com", i)}
	}
	e.must(400, e.admin("POST", "/api/v1/pools/"+poolID+"/users/import", map[string]any{"users": many}))
	// 1,000 users, each well-formed, whose body is over the 1 MiB cap: a
	// 413 before anything is decoded, and no user written.
	big := make([]map[string]any, 1000)
	for i := range big {
		big[i] = map[string]any{"username": fmt.Sprintf("big%d@example.com", i), "enabled": true,
			"attributes": map[string]string{"name": strings.Repeat("n", 1100)}}
	}
	if p := e.must(413, e.admin("POST", "/api/v1/pools/"+poolID+"/users/import", map[string]any{"users": big})); !strings.Contains(string(p.body), "payload_too_large") {
		t.Fatalf("oversized import: %s", p.body)
	}
	if n := e.userCount(poolID); n != 2 {
		t.Fatalf("%d users after a refused import", n)
	}
	e.must(400, e.admin("POST", "/api/v1/pools/"+poolID+"/users/import", map[string]any{"users": []map[string]any{{"username": "x@example.com", "colour": "red"}}}))
	e.must(404, e.admin("POST", "/api/v1/pools/eu-west-1_nopenope1/users/import", map[string]any{"users": []map[string]any{}}))
	e.must(401, e.do("POST", "/api/v1/pools/"+poolID+"/users/import", "", map[string]any{"users": []map[string]any{}}))
}
