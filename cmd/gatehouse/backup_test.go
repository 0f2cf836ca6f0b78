package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// drill is a server on the cli's database with an admin key and a pool.
type drill struct {
	c        *cli
	cfg      Config
	m        *Main
	adminKey string
	pool     string
	client   string
}

func (d *drill) start(t *testing.T) {
	t.Helper()
	d.m = startNode(t, d.cfg)
}

func (d *drill) stop(t *testing.T) {
	t.Helper()
	must(t, d.m.Close())
}

type drillTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (d *drill) createUser(t *testing.T, user string) {
	t.Helper()
	p := d.m.URL() + "/api/v1/pools/" + url.PathEscape(d.pool) + "/users"
	if r := do(t, "POST", p, d.adminKey, map[string]any{"username": user, "attributes": map[string]string{"email": user, "email_verified": "true"}, "message_action": "SUPPRESS"}); r.status/100 != 2 {
		t.Fatalf("create %s: %d %s", user, r.status, r.body)
	}
	if r := do(t, "PUT", p+"/"+url.PathEscape(user)+"/password", d.adminKey, map[string]any{"password": drillPassword, "permanent": true}); r.status/100 != 2 {
		t.Fatalf("password %s: %d %s", user, r.status, r.body)
	}
}

const drillPassword = "violet harbor lantern 92"

func (d *drill) signIn(t *testing.T, user string) drillTokens {
	t.Helper()
	r := do(t, "POST", d.m.URL()+"/api/v1/auth/sign-in", "", map[string]any{"client_id": d.client, "username": user, "password": drillPassword})
	if r.status != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", user, r.status, r.body)
	}
	var tok drillTokens
	must(t, json.Unmarshal([]byte(r.body), &tok))
	return tok
}

func (d *drill) refresh(t *testing.T, rt string) (drillTokens, int) {
	t.Helper()
	r := do(t, "POST", d.m.URL()+"/api/v1/auth/refresh", "", map[string]any{"client_id": d.client, "refresh_token": rt})
	var tok drillTokens
	if r.status == http.StatusOK {
		must(t, json.Unmarshal([]byte(r.body), &tok))
	}
	return tok, r.status
}

func (d *drill) me(t *testing.T, access string) int {
	t.Helper()
	return do(t, "GET", d.m.URL()+"/api/v1/me", access, nil).status
}

func (d *drill) userStatus(t *testing.T, user string) int {
	t.Helper()
	return do(t, "GET", d.m.URL()+"/api/v1/pools/"+url.PathEscape(d.pool)+"/users/"+url.PathEscape(user), d.adminKey, nil).status
}

func (d *drill) jwks(t *testing.T) string {
	t.Helper()
	return do(t, "GET", fmt.Sprintf("%s/%s/.well-known/jwks.json", d.m.URL(), d.pool), "", nil).body
}

func setupDrill(t *testing.T, c *cli) *drill {
	t.Helper()
	c.ok("apply", "-f", c.write("pool.yaml", `
pools:
  - name: drill
    username_mode: email
    clients: [{name: app, auth_flows: [USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH]}]
`))
	var cl clientJSON
	must(t, json.Unmarshal([]byte(c.ok("clients", "get", "--pool", "drill", "app", "-o", "json")), &cl))
	m := regexp.MustCompile(`token \(shown once\): (\S+)`).FindStringSubmatch(c.ok("keys", "create", "--name", "drill"))
	if m == nil {
		t.Fatal("no admin key token")
	}
	cfg := DefaultConfig()
	cfg.DataDir = c.env["GATEHOUSE_DATA_DIR"]
	cfg.DatabaseURL = c.env["GATEHOUSE_DATABASE_URL"]
	cfg.MasterKey = testMasterKey
	cfg.BaseURL = "https://id.example.com"
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	return &drill{c: c, cfg: cfg, adminKey: m[1], pool: cl.PoolID, client: cl.ID}
}

// TestRestoreDrill: users and tokens, an online backup while the server
// runs, more users and tokens, restore, and then nothing issued or used
// after the backup works: the refresh token rotated after the backup (its
// restored row looks unused), the tokens issued after it, the access token
// signed after it. The user from before the backup is back and signs in;
// the one from after is gone.
func TestRestoreDrill(t *testing.T) {
	t.Parallel()
	c := setup(t)
	d := setupDrill(t, c)
	d.start(t)
	d.createUser(t, "before@example.com")
	t1 := d.signIn(t, "before@example.com")
	keysBefore := d.jwks(t)

	backup := filepath.Join(c.dir, "backup.db")
	assertContains(t, c.ok("backup", "--to", backup), "backup written to")
	if _, _, err := c.run("", "backup", "--to", backup); err == nil {
		t.Error("backup over an existing file succeeded")
	}

	// After the backup.
	d.createUser(t, "after@example.com")
	t2, st := d.refresh(t, t1.RefreshToken) // rotates t1's refresh token
	if st != http.StatusOK {
		t.Fatalf("refresh before restore: %d", st)
	}
	t3 := d.signIn(t, "before@example.com")
	d.stop(t)

	if _, _, err := c.run("", "restore", "--from", backup); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("restore without --yes: %v", err)
	}
	out := c.ok("restore", "--from", backup, "--yes")
	assertContains(t, out, "moved to", "restored", "new token epoch", "1 users signed out")

	time.Sleep(5 * time.Millisecond) // the epoch is "now"; tokens below are newer
	d.start(t)
	if s := d.userStatus(t, "before@example.com"); s != http.StatusOK {
		t.Errorf("user from before the backup: %d", s)
	}
	if s := d.userStatus(t, "after@example.com"); s != http.StatusNotFound {
		t.Errorf("user from after the backup: %d, want 404", s)
	}
	for name, rt := range map[string]string{
		"rotated after the backup": t1.RefreshToken,
		"issued after the backup":  t2.RefreshToken,
		"signed in after backup":   t3.RefreshToken,
	} {
		if _, st := d.refresh(t, rt); st == http.StatusOK {
			t.Errorf("refresh token %s works after the restore", name)
		}
	}
	for name, at := range map[string]string{"from before the backup": t1.AccessToken, "from after the backup": t3.AccessToken} {
		if st := d.me(t, at); st != http.StatusUnauthorized {
			t.Errorf("access token %s: /me = %d, want 401", name, st)
		}
	}
	if d.jwks(t) == keysBefore {
		t.Error("the restored server publishes the same keys as before")
	}
	// The user signs in again, and the new tokens work.
	t4 := d.signIn(t, "before@example.com")
	if st := d.me(t, t4.AccessToken); st != http.StatusOK {
		t.Errorf("new access token: /me = %d", st)
	}
	if _, st := d.refresh(t, t4.RefreshToken); st != http.StatusOK {
		t.Errorf("new refresh token: %d", st)
	}
}

// TestEpochBumpPostgres: after a pg_restore the operator runs `epoch bump`;
// tokens from before stop working, new sign-ins work, and the other
// commands refuse to handle a PostgreSQL backup themselves.
func TestEpochBumpPostgres(t *testing.T) {
	t.Parallel()
	c := setupPostgres(t)
	d := setupDrill(t, c)
	d.start(t)
	d.createUser(t, "pg@example.com")
	t1 := d.signIn(t, "pg@example.com")

	for _, args := range [][]string{{"backup", "--to", filepath.Join(c.dir, "x.db")}, {"restore", "--from", "x", "--yes"}} {
		if _, _, err := c.run("", args...); err == nil || !strings.Contains(err.Error(), "pg_") {
			t.Errorf("%s on PostgreSQL: %v, want a pointer to pg_dump/pg_restore", args[0], err)
		}
	}
	if _, _, err := c.run("", "epoch", "bump"); err == nil {
		t.Error("epoch bump without --yes succeeded")
	}
	keysBefore := d.jwks(t)
	assertContains(t, c.ok("epoch", "bump", "--yes"), "new token epoch", "1 users signed out")
	// The running node was told about the new keys (LISTEN/NOTIFY) and its
	// earlier tokens are refused.
	if _, st := d.refresh(t, t1.RefreshToken); st == http.StatusOK {
		t.Error("refresh token from before the epoch works")
	}
	if st := d.me(t, t1.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("access token from before the epoch: %d", st)
	}
	// The node learns of the new keys through LISTEN/NOTIFY, a moment
	// after the bump; until then it still signs with the old key, which
	// the bump retired. Wait for its JWKS to change (a bound, not a
	// threshold) before signing in again.
	for deadline := time.Now().Add(30 * time.Second); d.jwks(t) == keysBefore; {
		if time.Now().After(deadline) {
			t.Fatal("the running node still publishes the keys from before the epoch bump")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
	t2 := d.signIn(t, "pg@example.com")
	if st := d.me(t, t2.AccessToken); st != http.StatusOK {
		t.Errorf("new access token: /me = %d", st)
	}
	assertContains(t, c.ok("users", "get", "--pool", "drill", "pg@example.com"), "CONFIRMED")
}
