package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// testMasterKey is 32 bytes of 0x01, base64.
const testMasterKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

// cli runs gatehouse commands in-process against one temporary SQLite data
// directory.
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
}

// setup returns a cli with its own data dir (SQLite), a fixed master key
// and cheap argon2 parameters (the cost is not what these tests are about).
func setup(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	return &cli{t: t, dir: dir, env: map[string]string{
		"GATEHOUSE_DATA_DIR":          filepath.Join(dir, "data"),
		"GATEHOUSE_MASTER_KEY":        testMasterKey,
		"GATEHOUSE_ARGON2_MEMORY_KIB": "64",
		"GATEHOUSE_ARGON2_TIME":       "1",
		"GATEHOUSE_LOG_LEVEL":         "warn",
	}}
}

// run executes args and returns stdout, stderr and the error.
func (c *cli) run(stdin string, args ...string) (string, string, error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	a := &app{
		stdin:            strings.NewReader(stdin),
		stdout:           &out,
		stderr:           &errOut,
		getenv:           func(k string) string { return c.env[k] },
		stderrIsTerminal: func() bool { return false },
	}
	err := a.run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// ok runs args and fails the test on error.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run("", args...)
	if err != nil {
		c.t.Fatalf("gatehouse %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	must(c.t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// setupPostgres is setup on a fresh schema of GATEHOUSE_TEST_POSTGRES (the
// test is skipped when it is unset, or fails with CI=true).
func setupPostgres(t *testing.T) *cli {
	t.Helper()
	c := setup(t)
	c.env["GATEHOUSE_DATABASE_URL"] = storetest.PostgresSchemaDSN(t)
	return c
}

// onBothBackends runs fn as subtests on SQLite and on PostgreSQL.
func onBothBackends(t *testing.T, fn func(t *testing.T, c *cli)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, setup(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, setupPostgres(t)) })
}

func assertContains(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

func TestApplyExampleFileTwice(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		example := filepath.Join("..", "..", "examples", "config", "gatehouse.yaml")

		dry := c.ok("apply", "-f", example, "--dry-run")
		assertContains(t, dry, "+ pool demo", "+ client demo/web", "+ client demo/backend (with secret)",
			"+ group demo/Admins", "+ group demo/Managers", "+ group demo/Users", "+ company demo/Acme", "Plan: 7 to create, 0 to update")
		if out := c.ok("pools", "list"); strings.Contains(out, "demo") {
			t.Fatalf("--dry-run created something:\n%s", out)
		}

		first := c.ok("apply", "-f", example)
		assertContains(t, first, "+ pool demo", "created pool demo", "client secret (shown once): ", "Apply complete: 7 created, 0 updated.")
		if strings.Count(first, "client secret") != 1 {
			t.Errorf("want exactly one secret printed (backend), got:\n%s", first)
		}

		second := c.ok("apply", "-f", example)
		assertContains(t, second, "No changes.")
		if strings.Contains(second, "+ ") || strings.Contains(second, "~ ") {
			t.Fatalf("second apply plans changes:\n%s", second)
		}

		// A changed setting is planned as an update of just that field.
		b, err := os.ReadFile(example)
		must(t, err)
		changed := strings.Replace(string(b), "callback_urls: [http://localhost:3000/callback]",
			"callback_urls: [http://localhost:3000/callback, https://app.example.com/callback]", 1)
		changed = strings.Replace(changed, "description: Can do everything", "description: Full access", 1)
		f := c.write("changed.yaml", changed)
		third := c.ok("apply", "-f", f)
		assertContains(t, third, "~ client demo/web: callback_urls", "~ group demo/Admins: description", "Plan: 0 to create, 2 to update")
		assertContains(t, c.ok("apply", "-f", f), "No changes.")

		got := c.ok("clients", "get", "--pool", "demo", "web", "-o", "json")
		var cl clientJSON
		must(t, json.Unmarshal([]byte(got), &cl))
		if len(cl.CallbackURLs) != 2 || cl.HasSecret {
			t.Errorf("client web after apply = %+v", cl)
		}
		groups := c.ok("groups", "list", "--pool", "demo")
		assertContains(t, groups, "Admins", "Full access", "Managers", "Users")
	})
}

func TestApplyFileErrors(t *testing.T) {
	t.Parallel()
	c := setup(t)
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "pools:\n  - name: x\n    colour: red\n", `.yaml:3: unknown field "colour" in pools`},
		{"no name", "pools:\n  - username_mode: email\n", "pools[0]: name is required"},
		{"bad mode", "pools:\n  - name: x\n    username_mode: phone\n", `username_mode "phone"`},
		{"duplicate group", "pools:\n  - name: x\n    groups: [{name: A}, {name: A}]\n", `group "A" is declared twice`},
		{"bad duration", "pools:\n  - name: x\n    tokens: {refresh: forever}\n", `invalid duration "forever"`},
	}
	for _, tt := range tests {
		f := c.write(strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.yaml)
		_, _, err := c.run("", "apply", "-f", f)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

const twoPools = `
pools:
  - name: src
    username_mode: email
    groups: [{name: Users}, {name: Admins}]
  - name: dst
    username_mode: email
`

func TestUsersCreateListGetDisable(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("pools.yaml", twoPools))

		out := c.ok("users", "create", "--pool", "src", "jo@example.com", "--attr", "name=Jo", "--suppress")
		assertContains(t, out, "created user jo@example.com", "FORCE_CHANGE_PASSWORD", "temporary password (shown once): ")
		c.ok("users", "create", "--pool", "src", "joan@example.com", "--suppress")
		c.ok("users", "create", "--pool", "src", "max@example.com", "--suppress")

		_, _, err := c.run("", "users", "create", "--pool", "src", "jo@example.com", "--suppress")
		if err == nil || !strings.Contains(err.Error(), "username_exists") {
			t.Errorf("duplicate create: err = %v, want username_exists", err)
		}

		list := c.ok("users", "list", "--pool", "src", "--filter", `email ^= "jo"`)
		assertContains(t, list, "USERNAME", "jo@example.com", "joan@example.com")
		if strings.Contains(list, "max@example.com") {
			t.Errorf("filter ignored:\n%s", list)
		}

		c.ok("groups", "add-user", "--pool", "src", "Admins", "jo@example.com")
		get := c.ok("users", "get", "--pool", "src", "jo@example.com")
		assertContains(t, get, "jo@example.com", "FORCE_CHANGE_PASSWORD", "Enabled", "Admins", "name=Jo")

		assertContains(t, c.ok("users", "disable", "--pool", "src", "jo@example.com"), "disabled jo@example.com")
		var u userJSON
		must(t, json.Unmarshal([]byte(c.ok("users", "get", "--pool", "src", "jo@example.com", "-o", "json")), &u))
		if u.Enabled {
			t.Errorf("user still enabled after disable: %+v", u)
		}
		members := c.ok("groups", "members", "--pool", "src", "Admins")
		assertContains(t, members, "jo@example.com", "Disabled")

		// The pool is found by id as well as by name.
		var pools []poolJSON
		must(t, json.Unmarshal([]byte(c.ok("pools", "list", "-o", "json")), &pools))
		var srcID string
		for _, p := range pools {
			if p.Name == "src" {
				srcID = p.ID
			}
		}
		if srcID == "" {
			t.Fatalf("pool src not listed: %+v", pools)
		}
		assertContains(t, c.ok("users", "list", "--pool", srcID), "joan@example.com")

		_, _, err = c.run("", "users", "get", "--pool", "nope", "jo@example.com")
		if err == nil || !strings.Contains(err.Error(), `no pool with id or name "nope"`) {
			t.Errorf("unknown pool: err = %v", err)
		}
	})
}

func TestUsersExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("pools.yaml", twoPools))
		for _, u := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
			c.ok("users", "create", "--pool", "src", u, "--suppress")
		}
		c.ok("users", "set-password", "--pool", "src", "--permanent", "bob@example.com")
		c.ok("groups", "add-user", "--pool", "src", "Admins", "ann@example.com")
		c.ok("groups", "add-user", "--pool", "src", "Users", "bob@example.com")
		c.ok("users", "disable", "--pool", "src", "cy@example.com")

		export, errOut, err := c.run("", "users", "export", "--pool", "src")
		must(t, err)
		assertContains(t, errOut, "exported 3 users")
		if n := strings.Count(export, "\n"); n != 3 {
			t.Fatalf("export has %d lines, want 3:\n%s", n, export)
		}
		file := c.write("users.jsonl", export)

		out := c.ok("users", "import", "--pool", "dst", "-f", file)
		assertContains(t, out, "created 3, replaced 0, skipped 0, failed 0")

		// Same users, statuses, enabled flags and groups in both pools.
		snapshot := func(pool string) []string {
			var users []userJSON
			must(t, json.Unmarshal([]byte(c.ok("users", "list", "--pool", pool, "-o", "json")), &users))
			var rows []string
			for _, u := range users {
				var g userJSON
				must(t, json.Unmarshal([]byte(c.ok("users", "get", "--pool", pool, u.Username, "-o", "json")), &g))
				sort.Strings(g.Groups)
				rows = append(rows, strings.Join([]string{u.Username, u.Sub, u.Status, fmtBool(u.Enabled), strings.Join(g.Groups, "+")}, " "))
			}
			sort.Strings(rows)
			return rows
		}
		src, dst := snapshot("src"), snapshot("dst")
		if strings.Join(src, "\n") != strings.Join(dst, "\n") {
			t.Fatalf("round trip differs:\nsrc:\n%s\ndst:\n%s", strings.Join(src, "\n"), strings.Join(dst, "\n"))
		}

		// Importing again skips everyone.
		assertContains(t, c.ok("users", "import", "--pool", "dst", "-f", file), "created 0, replaced 0, skipped 3, failed 0")
	})
}

func TestUsersImportReportsBadLines(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("pools.yaml", twoPools))
		lines := []string{
			`{"username":"one@example.com","email":"one@example.com","email_verified":true,"status":"CONFIRMED","enabled":true}`,
			`{"username": "broken@example.com", `, // line 2: not JSON
			``,                                    // line 3: blank, ignored
			`{"username":"two@example.com","email":"two@example.com","email_verified":true,"status":"CONFIRMED","enabled":true,"groups":["Editors"]}`,
			`{"username":"","email":"x@example.com"}`,                                     // line 5: no username
			`{"username":"three@example.com","email":"three@example.com","colour":"red"}`, // line 6: unknown field
			`{"username":"four@example.com","email":"four@example.com","email_verified":true,"status":"CONFIRMED","enabled":true}`,
		}
		file := c.write("bad.jsonl", strings.Join(lines, "\n")+"\n")
		out, _, err := c.run("", "users", "import", "--pool", "dst", "-f", file)
		var ee exitError
		if !errors.As(err, &ee) || ee != 2 {
			t.Fatalf("err = %v, want exit status 2\n%s", err, out)
		}
		assertContains(t, out, "line 2: invalid JSON", "line 5: username is missing", "line 6: invalid JSON", "created 3, replaced 0, skipped 0, failed 3")
		for _, bad := range []string{"line 1:", "line 3:", "line 4:", "line 7:"} {
			if strings.Contains(out, bad) {
				t.Errorf("good line reported as failed (%s):\n%s", bad, out)
			}
		}
		list := c.ok("users", "list", "--pool", "dst")
		assertContains(t, list, "one@example.com", "two@example.com", "four@example.com")
		// The group named by a user was created on the way.
		assertContains(t, c.ok("groups", "members", "--pool", "dst", "Editors"), "two@example.com")

		// JSON report for scripts.
		out, _, _ = c.run("", "users", "import", "--pool", "dst", "-f", file, "-o", "json")
		var rep importReport
		must(t, json.Unmarshal([]byte(out), &rep))
		if rep.Skipped != 3 || len(rep.Failed) != 3 || rep.Failed[0].Line != 2 {
			t.Errorf("json report = %+v", rep)
		}
	})
}

func TestKeysAndClientsCommands(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("pools.yaml", twoPools))

		out := c.ok("keys", "create", "--name", "ci", "--pool", "src")
		assertContains(t, out, "created API key", "token (shown once): ")
		global := c.ok("keys", "create", "--name", "ops", "-o", "json")
		var k apiKeyJSON
		must(t, json.Unmarshal([]byte(global), &k))
		if k.Token == "" || k.PoolID != "" {
			t.Fatalf("global key = %+v", k)
		}
		list := c.ok("keys", "list")
		assertContains(t, list, "ci", "ops", "(global)")
		if strings.Contains(list, k.Token) {
			t.Fatal("keys list shows a secret")
		}
		c.ok("keys", "revoke", k.ID)
		assertContains(t, c.ok("keys", "list"), "revoked")

		out = c.ok("clients", "create", "--pool", "src", "svc", "--secret")
		assertContains(t, out, "client svc: id ", "client secret (shown once): ")
		out = c.ok("clients", "rotate-secret", "--pool", "src", "svc")
		assertContains(t, out, "client secret (shown once): ")
		assertContains(t, c.ok("clients", "list", "--pool", "src"), "svc", "yes")
		c.ok("clients", "delete", "--pool", "src", "svc")
		if strings.Contains(c.ok("clients", "list", "--pool", "src"), "svc") {
			t.Error("client still listed after delete")
		}

		assertContains(t, c.ok("signing-keys", "rotate", "--pool", "src"), "now signs with key")
		assertContains(t, c.ok("signing-keys", "list", "--pool", "src"), "KID", "active")
	})
}

func TestVersionAndKeygen(t *testing.T) {
	t.Parallel()
	c := setup(t)
	assertContains(t, c.ok("version"), "gatehouse ")
	key := strings.TrimSpace(c.ok("keygen"))
	if _, err := loadMasterKey(key); err != nil {
		t.Fatalf("keygen printed an unusable key %q: %v", key, err)
	}
}

func TestNonDevRefusesWithoutMasterKey(t *testing.T) {
	t.Parallel()
	c := setup(t)
	delete(c.env, "GATEHOUSE_MASTER_KEY")
	_, _, err := c.run("", "pools", "list")
	if err == nil || !strings.Contains(err.Error(), "master_key: required outside dev mode") {
		t.Fatalf("err = %v", err)
	}
	c.env["GATEHOUSE_MASTER_KEY"] = "too-short"
	_, _, err = c.run("", "pools", "list")
	if err == nil || !strings.Contains(err.Error(), "master_key") || strings.Contains(err.Error(), "too-short") {
		t.Fatalf("err = %v", err)
	}
}

func TestImportProgressBarOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.ok("apply", "-f", c.write("pools.yaml", twoPools))
	file := c.write("u.jsonl", `{"username":"p1@example.com","email":"p1@example.com","status":"CONFIRMED","enabled":true}`+"\n")
	for _, tty := range []bool{false, true} {
		var out, errOut bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
			getenv: func(k string) string { return c.env[k] }, stderrIsTerminal: func() bool { return tty }}
		must(t, a.run(context.Background(), []string{"users", "import", "--pool", "dst", "--replace", "-f", file}))
		if got := strings.Contains(errOut.String(), "importing users"); got != tty {
			t.Errorf("terminal=%v: progress bar drawn=%v; stderr=%q", tty, got, errOut.String())
		}
		if strings.Contains(out.String(), "importing users") {
			t.Errorf("progress bar on stdout: %q", out.String())
		}
	}
}

func TestApplyPoolByExplicitID(t *testing.T) {
	t.Parallel()
	c := setup(t)
	const id = "eu-west-1_Fixed1234"
	f := c.write("id.yaml", "pools:\n  - name: acme\n    id: "+id+"\n    groups: [{name: Users}]\n")
	assertContains(t, c.ok("apply", "-f", f), "+ pool acme", "created pool acme ("+id+")")
	assertContains(t, c.ok("apply", "-f", f), "No changes.")
	// Same id, new name: the pool is renamed, not duplicated.
	f2 := c.write("id2.yaml", "pools:\n  - name: acme-corp\n    id: "+id+"\n    groups: [{name: Users}]\n")
	assertContains(t, c.ok("apply", "-f", f2), "~ pool acme-corp: name", "Plan: 0 to create, 1 to update")
	var pools []poolJSON
	must(t, json.Unmarshal([]byte(c.ok("pools", "list", "-o", "json")), &pools))
	if len(pools) != 1 || pools[0].ID != id || pools[0].Name != "acme-corp" {
		t.Fatalf("pools = %+v", pools)
	}
	assertContains(t, c.ok("groups", "list", "--pool", "acme-corp"), "Users")
}
