package auth

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestAPIKeys(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)

		k, tok, err := e.s.CreateAPIKey(e.ctx, p.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^ghk_[a-z0-9]{12}$`).MatchString(k.ID) || k.PoolID != p.ID || k.SecretHash != "" {
			t.Errorf("key = %+v", k)
		}
		id, secret, ok := strings.Cut(tok, ".")
		if !ok || id != k.ID || len(secret) != 43 {
			t.Fatalf("token %q", tok)
		}
		stored, err := e.st.GetAPIKey(e.ctx, k.ID)
		if err != nil || stored.SecretHash != sha256Hex(secret) {
			t.Fatalf("stored hash %q, err %v", stored.SecretHash, err)
		}

		got, err := e.s.AuthenticateAPIKey(e.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || got.PoolID != p.ID || got.SecretHash != "" {
			t.Errorf("authenticated = %+v", got)
		}

		global, gtok, err := e.s.CreateAPIKey(e.ctx, "", "ops")
		if err != nil {
			t.Fatal(err)
		}
		if g, err := e.s.AuthenticateAPIKey(e.ctx, gtok); err != nil || g.PoolID != "" {
			t.Errorf("global key: %+v, %v", g, err)
		}

		// Every failure looks the same.
		repl := "A"
		if secret[len(secret)-1] == 'A' {
			repl = "B"
		}
		other := secret[:len(secret)-1] + repl
		if err := e.s.RevokeAPIKey(e.ctx, global.ID); err != nil {
			t.Fatal(err)
		}
		bad := map[string]string{
			"wrong secret": k.ID + "." + other,
			"unknown id":   "ghk_000000000000." + secret,
			"revoked":      gtok,
			"no dot":       k.ID + secret,
			"empty secret": k.ID + ".",
			"empty":        "",
			"bad prefix":   "xyz_" + k.ID[4:] + "." + secret,
			"long":         k.ID + "." + strings.Repeat("a", 300),
			"only id":      k.ID,
		}
		for name, tok := range bad {
			_, err := e.s.AuthenticateAPIKey(e.ctx, tok)
			ie := admWantCode(t, err, identity.CodeUnauthenticated)
			if ie.Message != "Invalid API key." {
				t.Errorf("%s: message %q", name, ie.Message)
			}
		}

		// LastUsedAt is written at most once a minute.
		first, _ := e.st.GetAPIKey(e.ctx, k.ID)
		if !first.LastUsedAt.Equal(e.now()) {
			t.Fatalf("LastUsedAt = %v, want %v", first.LastUsedAt, e.now())
		}
		e.advance(30 * time.Second)
		if _, err := e.s.AuthenticateAPIKey(e.ctx, tok); err != nil {
			t.Fatal(err)
		}
		if again, _ := e.st.GetAPIKey(e.ctx, k.ID); !again.LastUsedAt.Equal(first.LastUsedAt) {
			t.Errorf("LastUsedAt moved after 30s: %v", again.LastUsedAt)
		}
		e.advance(31 * time.Second)
		if _, err := e.s.AuthenticateAPIKey(e.ctx, tok); err != nil {
			t.Fatal(err)
		}
		if again, _ := e.st.GetAPIKey(e.ctx, k.ID); !again.LastUsedAt.Equal(e.now()) {
			t.Errorf("LastUsedAt = %v after 61s, want %v", again.LastUsedAt, e.now())
		}

		all, err := e.s.ListAPIKeys(e.ctx, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("ListAPIKeys = %d, %v", len(all), err)
		}
		for _, x := range all {
			if x.SecretHash != "" {
				t.Errorf("list leaks the hash of %s", x.ID)
			}
		}
		mine, _ := e.s.ListAPIKeys(e.ctx, p.ID)
		if len(mine) != 1 || mine[0].ID != k.ID {
			t.Errorf("pool keys = %v", mine)
		}

		_, _, err = e.s.CreateAPIKey(e.ctx, "us-east-1_Unknown12", "x")
		admWantCode(t, err, identity.CodeResourceNotFound)
		_, _, err = e.s.CreateAPIKey(e.ctx, "", " ")
		admWantCode(t, err, identity.CodeInvalidParameter)
		admWantCode(t, e.s.RevokeAPIKey(e.ctx, "ghk_000000000000"), identity.CodeResourceNotFound)
		if a := e.auditActions(""); !contains(a, "apikey.create") || !contains(a, "apikey.revoke") {
			t.Errorf("audit = %v", a)
		}
	})
}
