package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth/forwardauthtest"
)

const nginxBin = "/usr/sbin/nginx"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// mustHaveNginx skips without nginx, unless CI=true or
// GATEHOUSE_TEST_ALL=1, where a missing nginx fails the test.
func mustHaveNginx(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(nginxBin); err == nil {
		return
	}
	if os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1" {
		t.Fatalf("%s is missing (apt-get install nginx)", nginxBin)
	}
	t.Skipf("%s is missing (apt-get install nginx); set GATEHOUSE_TEST_ALL=1 to fail instead", nginxBin)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startNginx runs nginx.conf (this directory's, with the addresses and
// pool id substituted) in a temp prefix and returns its base URL. nginx
// cannot listen on port 0 and report the port, so a free port is chosen
// first; if another process takes it before nginx binds it (a port race,
// nothing to do with the code), nginx is started again on another port.
func startNginx(t *testing.T, gatehouseAddr, appAddr, poolID string) string {
	t.Helper()
	for attempt := 1; ; attempt++ {
		base, portTaken := startNginxOnce(t, gatehouseAddr, appAddr, poolID)
		if !portTaken {
			return base
		}
		if attempt == 4 {
			t.Fatalf("nginx: the chosen port was taken %d times in a row", attempt)
		}
		t.Logf("nginx: its port was taken by another process; starting it on another port")
	}
}

func startNginxOnce(t *testing.T, gatehouseAddr, appAddr, poolID string) (base string, portTaken bool) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	conf := strings.NewReplacer(
		"server 127.0.0.1:8080;", "server "+gatehouseAddr+";",
		"server 127.0.0.1:8081;", "server "+appAddr+";",
		"listen 127.0.0.1:8000;", "listen "+listen+";",
		"POOL_ID", poolID,
	).Replace(string(src))
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot enter the
		// test's private temp directory.
		conf = "user root;\n" + conf
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(nginxBin, "-p", dir, "-c", path, "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	t.Cleanup(func() {
		if exited {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base = "http://" + listen
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, false
			}
		}
		select {
		case err := <-done:
			exited = true
			logs, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			if strings.Contains(out.String()+string(logs), "Address already in use") {
				return "", true
			}
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), logs)
		case <-ctx.Done():
			logs, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			t.Fatalf("nginx not ready: %v\n%s\n%s", err, out.String(), logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u, tok string, body []byte, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func must(t *testing.T, want int, r resp) resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// TestNginxForwardAuth runs a real nginx in front of the app, with
// Gatehouse's forward-auth deciding each request.
func TestNginxForwardAuth(t *testing.T) {
	mustHaveNginx(t)
	const ttl = 5 * time.Second
	c := &clock{t: time.Now()}
	g := forwardauthtest.Start(t, forwardauthtest.Options{Rules: Rules(), CacheTTL: ttl, Now: c.Now})
	store, _ := NewStore("")
	app := &App{Store: store, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	appSrv := httptest.NewServer(app.Handler(authz.ProxyHeaders{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}))
	t.Cleanup(appSrv.Close)
	base := startNginx(t, strings.TrimPrefix(g.URL, "http://"), strings.TrimPrefix(appSrv.URL, "http://"), g.Pool.ID)

	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	mia := g.User(t, "mia@acme.test", "Acme", "Managers")
	ada := g.User(t, "ada@acme.test", "Acme", "Admins")
	bob := g.User(t, "bob@globex.test", "Globex", "Admins")
	acme, globex := base+"/companies/Acme/documents", base+"/companies/Globex/documents"

	// Managers create; Users cannot.
	var aDoc, bDoc Document
	if err := json.Unmarshal(must(t, 201, do(t, "POST", acme+"?name=plan.txt", mia.Access, []byte("acme plan"))).body, &aDoc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(must(t, 201, do(t, "POST", globex+"?name=secret.txt", bob.Access, []byte("globex secret"))).body, &bDoc); err != nil {
		t.Fatal(err)
	}
	must(t, 403, do(t, "POST", acme+"?name=x.txt", alice.Access, []byte("x")))

	// A member of Acme reads Acme's documents, never Globex's.
	var list struct{ Documents []Document }
	json.Unmarshal(must(t, 200, do(t, "GET", acme, alice.Access, nil)).body, &list)
	if len(list.Documents) != 1 || list.Documents[0].ID != aDoc.ID || list.Documents[0].Name != "plan.txt" {
		t.Fatalf("Acme's list: %+v", list)
	}
	if r := must(t, 200, do(t, "GET", acme+"/"+aDoc.ID, alice.Access, nil)); string(r.body) != "acme plan" {
		t.Fatalf("read: %q", r.body)
	}
	must(t, 403, do(t, "GET", globex, alice.Access, nil))
	must(t, 403, do(t, "GET", globex+"/"+bDoc.ID, alice.Access, nil))
	must(t, 403, do(t, "GET", globex+"/"+bDoc.ID, ada.Access, nil))
	must(t, 404, do(t, "GET", acme+"/"+bDoc.ID, ada.Access, nil)) // another company's id is not found in Acme
	must(t, 403, do(t, "GET", base+"/companies/Acme/../Globex/documents", alice.Access, nil))
	must(t, 403, do(t, "GET", base+"/companies/Acme%2F..%2FGlobex/documents", alice.Access, nil))
	// Identity headers sent by the client are never believed.
	must(t, 403, do(t, "GET", globex, alice.Access, nil, "X-Auth-Company", "Globex", "X-Auth-Groups", "Admins"))
	must(t, 401, do(t, "GET", globex, "", nil, "X-Auth-Sub", "someone", "X-Auth-Company", "Globex", "X-Auth-Groups", "Admins"))
	var me map[string]any
	json.Unmarshal(must(t, 200, do(t, "GET", base+"/me", alice.Access, nil, "X-Auth-Company", "Globex")).body, &me)
	if me["company"] != "Acme" || me["email"] != "alice@acme.test" {
		t.Fatalf("me: %v", me)
	}

	// Managers update; a User cannot delete, a Manager cannot, an Admin can.
	must(t, 200, do(t, "PUT", acme+"/"+aDoc.ID, mia.Access, []byte("acme plan v2")))
	must(t, 403, do(t, "PUT", acme+"/"+aDoc.ID, alice.Access, []byte("nope")))
	must(t, 403, do(t, "DELETE", acme+"/"+aDoc.ID, alice.Access, nil))
	must(t, 403, do(t, "DELETE", acme+"/"+aDoc.ID, mia.Access, nil))
	must(t, 403, do(t, "DELETE", globex+"/"+bDoc.ID, ada.Access, nil))
	must(t, 204, do(t, "DELETE", acme+"/"+aDoc.ID, ada.Access, nil))
	must(t, 404, do(t, "GET", acme+"/"+aDoc.ID, alice.Access, nil))
	must(t, 200, do(t, "GET", globex+"/"+bDoc.ID, bob.Access, nil))

	// No token: 401 with a challenge; bad tokens too.
	r := must(t, 401, do(t, "GET", acme, "", nil))
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 without WWW-Authenticate: %v", r.header)
	}
	must(t, 401, do(t, "GET", acme, "not.a.token", nil))
	must(t, 401, do(t, "GET", acme, alice.ID, nil)) // an ID token is not an access token
	// nginx itself refuses a 100,000-byte header (400) before asking;
	// Gatehouse's answer to it is tested in internal/forwardauth.
	if r := do(t, "GET", acme, strings.Repeat(".", 100000), nil); r.status != 400 && r.status != 401 {
		t.Fatalf("100000 dots: %d", r.status)
	}
	must(t, 401, do(t, "GET", acme, strings.Repeat(".", 4000), nil))
	must(t, 200, do(t, "GET", base+"/healthz", "", nil))

	// A global sign-out reaches the authorizer within the cache TTL.
	must(t, 200, do(t, "GET", acme, alice.Access, nil))
	g.GlobalSignOut(t, "alice@acme.test")
	c.Add(ttl)
	must(t, 401, do(t, "GET", acme, alice.Access, nil))
	must(t, 200, do(t, "GET", acme, mia.Access, nil)) // others unaffected
}

// TestJWTMode runs the app verifying ID tokens itself against the pool's
// JWKS, fetched over HTTP from a real Gatehouse.
func TestJWTMode(t *testing.T) {
	t.Parallel()
	g := forwardauthtest.Start(t, forwardauthtest.Options{Rules: Rules()})
	auth, err := authenticator("jwt", g.Issuer, g.ClientID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewStore(t.TempDir()) // on disk this time
	if err != nil {
		t.Fatal(err)
	}
	app := &App{Store: store, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	srv := httptest.NewServer(app.Handler(auth))
	t.Cleanup(srv.Close)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	ada := g.User(t, "ada@acme.test", "Acme", "Admins")
	bob := g.User(t, "bob@globex.test", "Globex", "Managers")
	acme, globex := srv.URL+"/companies/Acme/documents", srv.URL+"/companies/Globex/documents"

	var d Document
	json.Unmarshal(must(t, 201, do(t, "POST", acme+"?name="+url.QueryEscape("a b.txt"), ada.ID, []byte("hello"))).body, &d)
	must(t, 201, do(t, "POST", globex+"?name=g.txt", bob.ID, []byte("globex")))
	var list struct{ Documents []Document }
	json.Unmarshal(must(t, 200, do(t, "GET", acme, alice.ID, nil)).body, &list)
	if len(list.Documents) != 1 || list.Documents[0].Name != "a b.txt" || list.Documents[0].Size != 5 {
		t.Fatalf("list %+v", list)
	}
	must(t, 403, do(t, "GET", globex, alice.ID, nil))
	must(t, 403, do(t, "DELETE", acme+"/"+d.ID, alice.ID, nil))
	must(t, 401, do(t, "GET", acme, alice.Access, nil)) // access tokens lack the company: this app takes ID tokens
	must(t, 401, do(t, "GET", acme, "", nil))
	must(t, 204, do(t, "DELETE", acme+"/"+d.ID, ada.ID, nil))
	must(t, 404, do(t, "DELETE", acme+"/"+d.ID, ada.ID, nil))
}

func TestAuthenticatorFlags(t *testing.T) {
	t.Parallel()
	if _, err := authenticator("magic", "", "", "", ""); err == nil {
		t.Fatal("unknown mode accepted")
	}
	if _, err := authenticator("jwt", "", "c", "", ""); err == nil {
		t.Fatal("jwt without issuer accepted")
	}
	if _, err := authenticator("proxy", "", "", "", "not-a-cidr"); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}
