package main

import (
	"errors"
	"strings"
	"testing"
)

// users import takes Cognito's import CSV too: users arrive
// RESET_REQUIRED, existing ones are skipped, bad rows are reported by
// line; and JSON lines carry foreign password hashes that sign in.
func TestUsersImportCSVAndForeignHashes(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("pools.yaml", twoPools))
		csv := "cognito:username,email,email_verified,name,cognito:mfa_enabled\n" +
			"ann@example.com,ann@example.com,true,Ann,false\n" +
			"bob@example.com,bob@example.com,true,Bob,true\n" + // line 3: MFA refused
			"ann@example.com,ann@example.com,true,Ann,false\n" + // line 4: skipped
			"not-an-email,x@example.com,false,X,false\n" // line 5: refused
		out, _, err := c.run("", "users", "import", "--pool", "dst", "-f", c.write("users.csv", csv))
		var ee exitError
		if !errors.As(err, &ee) || ee != 2 {
			t.Fatalf("err = %v, want exit status 2\n%s", err, out)
		}
		assertContains(t, out, "line 3: invalid_parameter (cognito:mfa_enabled): MFA settings cannot be imported yet", "line 5:", "created 1, replaced 0, skipped 1, failed 2")
		assertContains(t, c.ok("users", "get", "--pool", "dst", "ann@example.com"), "RESET_REQUIRED")

		// Django's own test vector: make_password("lètmein", "seasalt").
		line := `{"username":"dj@example.com","email":"dj@example.com","email_verified":true,"status":"CONFIRMED","enabled":true,` +
			`"password_hash":"pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="}` + "\n" +
			`{"username":"md5@example.com","email":"md5@example.com","enabled":true,"password_hash":"md5$x$y"}` + "\n"
		out, _, _ = c.run("", "users", "import", "--pool", "dst", "-f", c.write("hashes.jsonl", line))
		assertContains(t, out, "line 2: invalid_parameter (password_hash)", "created 1")
		if strings.Contains(out, "line 1:") {
			t.Fatalf("the Django hash was refused:\n%s", out)
		}
	})
}
