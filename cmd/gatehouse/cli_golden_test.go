package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden files under testdata/ (TestAdminCommandsGolden, ...)")

// goldenYAML is the pool the administration commands run against.
const goldenYAML = `pools:
  - name: golden
    username_mode: email
    schema:
      - {name: company_name, type: String}
    clients:
      - name: web
        auth_flows: [USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH]
    groups:
      - {name: Staff, description: Everyone, precedence: 2}
    sign_up:
      company_attribute: custom:company_name
      approval: {expiry: 7d}
    companies:
      - name: Acme
        display_name: Acme Corporation
        email_domains: [acme.example]
        approvers: [{email: boss@acme.example}]
`

// TestAdminCommandsGolden runs every administration command (pools,
// users, groups, clients, keys, signing-keys, registrations, companies)
// in table and JSON form, and their refusals, and compares stdout, stderr
// and the error with testdata/admin_commands.golden, volatile values
// (ids, subs, times, secrets) numbered in order of appearance. It pins
// the commands' output while their scaffold changes.
func TestAdminCommandsGolden(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.ok("apply", "-f", c.write("golden.yaml", goldenYAML))
	g := &golden{t: t, c: c}
	run, both := g.run, g.both
	p := []string{"--pool", "golden"}
	with := func(args ...string) []string { return append(args, p...) }

	both("pools", "list")
	both("pools", "get", "golden")
	run("pools", "get", "nope")
	run("pools", "list", "-o", "yaml")

	both(with("users", "create", "ann@acme.example", "--suppress", "--temporary-password", "Temporary-passw0rd-long", "--attr", "name=Ann")...)
	run(with("users", "create", "bob@acme.example", "--suppress", "-o", "json")...)
	run(with("users", "create", "eve@acme.example", "--suppress", "--email-verified", "-o", "json")...)
	run(with("users", "create", "bad@acme.example", "--attr", "novalue")...)
	both(with("users", "list")...)
	run(with("users", "list", "--limit", "1")...)
	both(with("users", "get", "ann@acme.example")...)
	for _, verb := range []string{"disable", "enable", "sign-out", "reset-password", "confirm", "delete"} {
		run(with("users", verb, "bob@acme.example")...)
	}
	run(with("users", "disable", "nobody@acme.example")...)
	run("users", "disable", "ann@acme.example")
	run(with("users", "set-password", "ann@acme.example", "--password", "another long passphrase 99", "--permanent")...)
	run(with("users", "set-password", "ann@acme.example", "--password", "short")...)

	run(with("groups", "create", "Ops", "--description", "On call", "--precedence", "1")...)
	run(with("groups", "create", "Plain")...)
	run(with("groups", "create", "Ops")...)
	both(with("groups", "list")...)
	run(with("groups", "add-user", "Ops", "ann@acme.example")...)
	both(with("groups", "members", "Ops")...)
	run(with("groups", "remove-user", "Ops", "ann@acme.example")...)
	run(with("groups", "delete", "Plain")...)
	run(with("groups", "delete", "Plain")...)

	both(with("clients", "list")...)
	run(with("clients", "create", "svc", "--secret", "--oauth-flows", "client_credentials", "--oauth-scopes", "api/read")...)
	run(with("clients", "create", "spa", "-o", "json")...)
	both(with("clients", "get", "svc")...)
	both(with("clients", "rotate-secret", "svc")...)
	run(with("clients", "delete", "spa")...)
	run(with("clients", "get", "nope")...)

	both("keys", "create", "--name", "ops")
	both(with("keys", "create", "--name", "scoped")...)
	both("keys", "list")
	both(with("keys", "list")...)
	run("keys", "revoke", "nope")
	run("keys", "create")

	run(with("signing-keys", "rotate")...)
	both(with("signing-keys", "list")...)

	both(with("companies", "list")...)
	run(with("companies", "create", "Globex", "--display-name", "Globex Inc", "--domain", "globex.example", "--approver", "boss@globex.example", "--approver", "user:ann@acme.example")...)
	run(with("companies", "create", "Globex")...)
	run(with("companies", "update", "Globex", "--status", "disabled", "--domain", "globex.test")...)
	both(with("companies", "show", "Globex")...)
	run(with("companies", "delete", "Globex")...)
	run(with("companies", "show", "Globex")...)

	// Two verified applicants, through the service as the sign-up pages
	// would: their requests wait for a decision.
	signUpPending(t, c, "cy@acme.example", "dee@acme.example")
	both(with("registrations", "list")...)
	run(with("registrations", "list", "--state", "pending", "--company", "Acme")...)
	run(with("registrations", "list", "--state", "bogus")...)
	reqs := regexp.MustCompile(`(?m)^(\S+)\s+pending\s+(cy|dee)@`).FindAllStringSubmatch(c.ok(with("registrations", "list", "--state", "pending")...), -1)
	if len(reqs) != 2 {
		t.Fatalf("pending requests: %v", reqs)
	}
	ids := map[string]string{reqs[0][2]: reqs[0][1], reqs[1][2]: reqs[1][1]}
	run(with("registrations", "approve", ids["cy"], "--reason", "known")...)
	run(with("registrations", "deny", ids["dee"])...)
	run(with("registrations", "approve", ids["dee"])...)
	both(with("registrations", "show", ids["cy"])...)
	run(with("registrations", "show", "nope")...)

	g.check("admin_commands.golden")
}

// golden records commands' stdout, stderr and errors for a golden file.
type golden struct {
	t *testing.T
	c *cli
	b strings.Builder
}

func (g *golden) run(args ...string) {
	g.t.Helper()
	out, errOut, err := g.c.run("", args...)
	fmt.Fprintf(&g.b, "$ gatehouse %s\n%s", strings.Join(args, " "), out)
	if errOut != "" {
		fmt.Fprintf(&g.b, "[stderr] %s", errOut)
	}
	if err != nil {
		fmt.Fprintf(&g.b, "[error] %v\n", err)
	}
}

// both runs args in table and in JSON form.
func (g *golden) both(args ...string) {
	g.t.Helper()
	g.run(args...)
	g.run(append(args, "-o", "json")...)
}

// check compares the normalized record with testdata/name (rewritten
// under -update-golden).
func (g *golden) check(name string) {
	t := g.t
	t.Helper()
	got := normalizeGolden(g.b.String())
	path := filepath.Join("testdata", name)
	if *updateGolden {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("output differs from %s at line %d:\n got: %q\nwant: %q", path, i+1, g, w)
			}
		}
	}
}

// TestHooksAndIdentityProviderCommandsGolden is TestAdminCommandsGolden
// for the hooks and identity-providers commands (hooks test, whose
// latency varies, is TestHooksCLI's).
func TestHooksAndIdentityProviderCommandsGolden(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.ok("apply", "-f", c.write("idp.yaml", "pools:\n  - name: golden\n    identity_providers:\n      - name: corp\n        type: OIDC\n"+
		"        issuer: https://login.corp.example\n        client_id: gh\n        attribute_mapping: {email: email, name: name}\n"))
	c.ok("users", "create", "--pool", "golden", "ann@example.com", "--suppress")
	g := &golden{t: t, c: c}
	with := func(args ...string) []string { return append(args, "--pool", "golden") }

	g.both(with("hooks", "list")...)
	g.run(with("hooks", "set", "pre_sign_up", "https://hooks.example/pre", "--timeout-ms", "1500")...)
	g.run(with("hooks", "set", "custom_message", "https://hooks.example/cm", "--secret", "a-secret-of-enough-length-42", "--disabled")...)
	g.run(with("hooks", "set", "pre_sign_up", "https://hooks.example/pre2")...)
	g.run(with("hooks", "set", "nope", "https://hooks.example/x")...)
	g.both(with("hooks", "list")...)
	g.run(with("hooks", "delete", "custom_message")...)
	g.run(with("hooks", "delete", "custom_message")...)
	g.run(with("hooks", "test", "custom_message")...)
	g.run("hooks", "list", "-o", "xml", "--pool", "golden")

	g.both(with("idp", "list")...)
	g.run(with("identity-providers", "set", "corp", "--issuer", "https://login2.corp.example", "--client-id", "gh2", "--mapping", "email=email,custom:x=org")...)
	g.run(with("idp", "set", "bad", "--mapping", "novalue")...)
	g.run(with("idp", "set", "fb", "--type", "Facebook", "--client-id", "fb1", "--client-secret-env", "GATEHOUSE_GOLDEN_UNSET_VARIABLE")...)
	g.both(with("idp", "list")...)
	g.run(with("idp", "link", "corp", "up-1", "ann@example.com")...)
	g.run(with("idp", "link", "corp", "up-1", "nobody@example.com")...)
	g.both(with("idp", "links", "ann@example.com")...)
	g.run(with("idp", "unlink", "corp", "up-1", "--user", "nobody@example.com")...)
	g.run(with("idp", "unlink", "corp", "up-1")...)
	g.both(with("idp", "links", "ann@example.com")...)
	g.run(with("idp", "delete", "corp")...)
	g.run(with("idp", "delete", "corp")...)
	g.check("hooks_idp_commands.golden")
}

// signUpPending signs each email up with the pool's web client and
// confirms the emailed code, through the service of the CLI's own
// configuration.
func signUpPending(t *testing.T, c *cli, emails ...string) {
	t.Helper()
	a := &app{getenv: func(k string) string { return c.env[k] }, stdout: &strings.Builder{}, stderr: &strings.Builder{}}
	cfg, err := a.partialConfig()
	must(t, err)
	ctx := context.Background()
	co, err := openCore(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	must(t, err)
	defer co.Close()
	p, err := resolvePool(ctx, co.svc, "golden")
	must(t, err)
	cl, err := resolveClient(ctx, co.svc, p.ID, "web")
	must(t, err)
	codeRE := regexp.MustCompile(`\b(\d{6})\b`)
	for _, e := range emails {
		_, err := co.svc.SignUp(ctx, auth.SignUpInput{Client: auth.Client{ID: cl.ID}, Username: e, Password: "correct horse battery staple 42",
			Attributes: map[string]string{"custom:company_name": "Acme Corporation"}, Meta: auth.RequestMeta{IP: "192.0.2.7", UserAgent: "golden/1.0"}})
		must(t, err)
		msgs, _, err := co.svc.ListEmails(ctx, p.ID, "", 50, "")
		must(t, err)
		code := ""
		for _, m := range msgs {
			if strings.Contains(m.To, e) {
				if c := codeRE.FindStringSubmatch(m.Text); c != nil {
					code = c[1]
					break
				}
			}
		}
		must(t, co.svc.ConfirmSignUp(ctx, auth.ConfirmSignUpInput{Client: auth.Client{ID: cl.ID}, Username: e, Code: code,
			Meta: auth.RequestMeta{IP: "192.0.2.7", UserAgent: "golden/1.0"}}))
	}
}

// volatile values, numbered per kind in order of appearance (times are
// all <time>).
var goldenVolatile = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"time", regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)|\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC`)},
	{"uuid", regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)},
	{"apikey", regexp.MustCompile(`ghk_[a-z0-9]+`)},
	{"hooksecret", regexp.MustCompile(`ghs_[A-Za-z0-9_-]+`)},
	{"pool", regexp.MustCompile(`us-east-1_[A-Za-z0-9]+`)},
	{"secret", regexp.MustCompile(`(?:shown once\): |"(?:client_secret|token|temporary_password)": ")([^\s"]+)`)},
	{"id", regexp.MustCompile(`\b[a-z0-9]{20,}\b`)},
	{"kid", regexp.MustCompile(`[A-Za-z0-9_-]{16,}`)},
}

// goldenName tells a name in the output (preferred_username,
// FORCE_CHANGE_PASSWORD, --temporary-password) from a generated value that
// happens to hold no digit: a name is words of one case joined by "_" or
// "-"; registration ids ("reg_" and 21 base32 letters), client ids (20 or
// more letters and digits, no separator) and key ids (mixed case) are not.
func goldenName(m string) bool {
	if strings.HasPrefix(m, "reg_") || strings.ContainsAny(m, "0123456789") || !strings.ContainsAny(m, "_-") {
		return false
	}
	return strings.ToLower(m) == m || strings.ToUpper(m) == m
}

func normalizeGolden(s string) string {
	for _, v := range goldenVolatile {
		seen := map[string]string{}
		s = v.re.ReplaceAllStringFunc(s, func(m string) string {
			val := m
			prefix := ""
			if sm := v.re.FindStringSubmatch(m); len(sm) > 1 && sm[1] != "" {
				prefix, val = m[:len(m)-len(sm[1])], sm[1]
			}
			if v.kind == "time" {
				return "<time>" // equal or not depends on the second it ran in
			}
			if (v.kind == "id" || v.kind == "kid") && goldenName(m) {
				return m // a name, not a generated value
			}
			if _, ok := seen[val]; !ok {
				seen[val] = fmt.Sprintf("<%s%d>", v.kind, len(seen)+1)
			}
			return prefix + seen[val]
		})
	}
	return s
}
