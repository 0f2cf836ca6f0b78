package oidc_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Apache httpd with Debian's libapache2-mod-auth-openidc as a relying
// party, configured the way its README says, with nothing Gatehouse-
// specific: sign in through the hosted page, a protected CGI page shows
// the claims mod_auth_openidc passes, and its logout (an RP-initiated
// logout with id_token_hint and post_logout_redirect_uri, no client_id)
// ends both sessions. .ci/run installs apache2 and the module; without
// them the test skips, unless CI=true or GATEHOUSE_TEST_ALL=1.

const (
	apacheBin    = "/usr/sbin/apache2"
	apacheModDir = "/usr/lib/apache2/modules"
)

func requireApache(t *testing.T) {
	t.Helper()
	for _, p := range []string{apacheBin, filepath.Join(apacheModDir, "mod_auth_openidc.so")} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1" {
				t.Fatalf("%s is required (CI=true or GATEHOUSE_TEST_ALL=1): apt-get install apache2 libapache2-mod-auth-openidc", p)
			}
			t.Skipf("%s not installed; set GATEHOUSE_TEST_ALL=1 to require it", p)
		}
	}
}

const apacheConf = `ServerRoot "{{dir}}"
ServerName 127.0.0.1
Listen 127.0.0.1:{{port}}
PidFile "{{dir}}/httpd.pid"
ErrorLog "{{dir}}/error.log"
LogLevel warn auth_openidc:info
{{user}}
LoadModule mpm_prefork_module {{mods}}/mod_mpm_prefork.so
LoadModule authz_core_module {{mods}}/mod_authz_core.so
LoadModule authn_core_module {{mods}}/mod_authn_core.so
LoadModule authz_user_module {{mods}}/mod_authz_user.so
LoadModule alias_module {{mods}}/mod_alias.so
LoadModule cgi_module {{mods}}/mod_cgi.so
LoadModule auth_openidc_module {{mods}}/mod_auth_openidc.so
DocumentRoot "{{dir}}"
<Directory />
	AllowOverride None
</Directory>
StartServers 1
MinSpareServers 1
MaxSpareServers 2

OIDCProviderMetadataURL {{issuer}}/.well-known/openid-configuration
OIDCClientID {{client}}
OIDCClientSecret {{secret}}
OIDCRedirectURI http://127.0.0.1:{{port}}/protected/redirect_uri
OIDCCryptoPassphrase {{passphrase}}
OIDCScope "openid email profile"
OIDCPKCEMethod S256
OIDCSessionType server-cache
OIDCCacheType shm

ScriptAlias /protected/claims "{{dir}}/claims.sh"
<Location /protected>
	AuthType openid-connect
	Require valid-user
</Location>
`

const claimsScript = `#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "email=$OIDC_CLAIM_email"
echo "sub=$OIDC_CLAIM_sub"
echo "company=$OIDC_CLAIM_custom_company_name"
echo "groups=$OIDC_CLAIM_cognito_groups"
`

// startApache writes the configuration and starts httpd on a free port;
// a port taken between the probe and httpd's bind makes httpd exit, and
// the next port is tried. It returns the base URL.
func startApache(t *testing.T, e *env, clientID, secret string) string {
	t.Helper()
	// Not t.TempDir: its parent is private to root, and httpd's children
	// run as nobody.
	dir, err := os.MkdirTemp("", "gatehouse-apache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("httpd error.log:\n%s", log)
		}
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "claims.sh"), []byte(claimsScript), 0o755); err != nil {
		t.Fatal(err)
	}
	pass := make([]byte, 16)
	_, _ = rand.Read(pass)
	user := ""
	if os.Geteuid() == 0 {
		user = "User nobody\nGroup nogroup"
	}
	for attempt := 0; attempt < 5; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		base := "http://127.0.0.1:" + port
		e.addCallback(clientID, base+"/protected/redirect_uri")
		conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", port, "{{mods}}", apacheModDir, "{{issuer}}", e.issuer,
			"{{client}}", clientID, "{{secret}}", secret, "{{passphrase}}", hex.EncodeToString(pass), "{{user}}", user).Replace(apacheConf)
		confPath := filepath.Join(dir, "httpd.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, apacheBin, "-f", confPath, "-DFOREGROUND")
		// Its own process group: at shutdown httpd signals its whole group,
		// which must not be the test's. SIGTERM, not SIGKILL: httpd then
		// stops its children too.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		cmd.Env = append(os.Environ(), "APACHE_RUN_DIR="+dir, "APACHE_LOCK_DIR="+dir)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("start apache: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			cancel()
			<-exited
		})
		// Up when it answers; gone if it could not bind.
		for i := 0; ; i++ {
			select {
			case err := <-exited:
				log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				if strings.Contains(string(log)+out.String(), "Address already in use") {
					t.Logf("port %s taken, trying another", port)
					goto next
				}
				t.Fatalf("apache exited: %v\n%s\n%s", err, out, log)
			default:
			}
			if res, err := http.Get(base + "/"); err == nil {
				res.Body.Close()
				return base
			}
			time.Sleep(50 * time.Millisecond)
		}
	next:
	}
	t.Fatal("no free port for apache")
	return ""
}

// TestApacheModAuthOpenIDC: sign-in, claims on a protected page, logout.
func TestApacheModAuthOpenIDC(t *testing.T) {
	requireApache(t)
	e := setup(t)
	base := startApache(t, e, e.conf, e.confSecret)
	cl := mustClient(t, e, e.pool.ID, e.conf)
	cl.LogoutURLs = append(cl.LogoutURLs, base+"/")
	if _, err := e.svc.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	// A browser's Accept: mod_auth_openidc answers 401 instead of
	// redirecting to the provider for requests that do not take HTML.
	b.b.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	// follow walks redirects across httpd and Gatehouse, signing in on the
	// hosted page when shown it, and returns the last answer.
	follow := func(u string) resp {
		t.Helper()
		for i := 0; i < 15; i++ {
			r := b.b.Get(u)
			switch {
			case r.Status == http.StatusFound || r.Status == http.StatusSeeOther:
				u = r.Location()
			case r.Status == http.StatusOK && strings.Contains(r.Body, `name="password"`):
				pr := b.b.Submit(r, "username", userEmail, "password", userPW)
				if pr.Status != http.StatusFound && pr.Status != http.StatusSeeOther {
					t.Fatalf("sign-in: %d %s", pr.Status, pr.Body)
				}
				u = pr.Location()
			default:
				return local(r)
			}
		}
		t.Fatal("too many redirects")
		return resp{}
	}
	r := follow(base + "/protected/claims")
	if r.status != 200 || !strings.Contains(r.body, "email="+userEmail) || !strings.Contains(r.body, "sub="+e.sub) ||
		!strings.Contains(r.body, "company=Acme Corporation") {
		t.Fatalf("protected page: %d %s", r.status, r.body)
	}
	// Signed in at httpd: the page answers without the provider.
	if r := b.get(base + "/protected/claims"); r.status != 200 {
		t.Fatalf("second visit: %d", r.status)
	}
	// mod_auth_openidc's logout: its session ends, then Gatehouse's (the
	// RP-initiated logout it sends), and the browser lands on base/.
	lo := b.get(base + "/protected/redirect_uri?logout=" + url.QueryEscape(base+"/"))
	if lo.status != http.StatusFound && lo.status != http.StatusSeeOther {
		t.Fatalf("logout at httpd: %d %s", lo.status, lo.body)
	}
	end := lo.header.Get("Location")
	if !strings.HasPrefix(end, e.issuer+"/logout?") || !strings.Contains(end, "id_token_hint=") {
		t.Fatalf("httpd sent the browser to %s", end)
	}
	if r := b.get(end); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), base+"/") {
		t.Fatalf("provider logout: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	// Both sessions are gone: the protected page needs the password again.
	r0 := b.get(base + "/protected/claims")
	if r0.status != http.StatusFound || !strings.HasPrefix(r0.header.Get("Location"), e.issuer+"/oauth2/authorize") {
		t.Fatalf("after logout httpd answered %d %s", r0.status, r0.header.Get("Location"))
	}
	if r := b.get(r0.header.Get("Location")); r.status != http.StatusFound || !strings.Contains(r.header.Get("Location"), "/login") {
		t.Fatalf("after logout the provider answered %d %s", r.status, r.header.Get("Location"))
	}

	// Back-Channel Logout: httpd's own endpoint is its redirect URI with
	// logout=backchannel (its README). Signed in again, the user is signed
	// out everywhere; the job delivers the logout token and httpd's session
	// ends without the browser.
	cl = mustClient(t, e, e.pool.ID, e.conf)
	cl.BackchannelLogoutURI = base + "/protected/redirect_uri?logout=backchannel"
	if _, err := e.svc.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	if r := follow(base + "/protected/claims"); r.status != 200 || !strings.Contains(r.body, "sub="+e.sub) {
		t.Fatalf("second sign-in: %d %s", r.status, r.body)
	}
	if err := e.svc.AdminUserGlobalSignOut(context.Background(), e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	if r := b.get(base + "/protected/claims"); r.status != 200 {
		t.Fatalf("httpd's session ended before the logout token was delivered: %d", r.status)
	}
	if _, err := e.stack.Runner.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if js, _, err := e.svc.ListJobs(context.Background(), e.pool.ID, "", auth.BackchannelLogoutJobKind, 10, ""); err != nil ||
		len(js) != 1 || js[0].State != identity.JobDone {
		t.Fatalf("back-channel job: %v %+v", err, js)
	}
	r0 = b.get(base + "/protected/claims")
	if r0.status != http.StatusFound || !strings.HasPrefix(r0.header.Get("Location"), e.issuer+"/oauth2/authorize") {
		t.Fatalf("after back-channel logout httpd answered %d %s", r0.status, r0.header.Get("Location"))
	}
}
