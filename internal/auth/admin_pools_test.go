package auth

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestCreatePoolDefaults(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		if !regexp.MustCompile(`^us-east-1_[A-Za-z0-9]{9}$`).MatchString(p.ID) {
			t.Errorf("id = %q, want us-east-1_<9 alphanumerics>", p.ID)
		}
		if p.UsernameMode != identity.UsernameEmail || p.SigningAlg != "ES256" ||
			p.MaxFailedAttempts != DefaultMaxFailures || p.LockoutDuration != DefaultLockout {
			t.Errorf("defaults not applied: %+v", p)
		}
		if p.PasswordPolicy.MinimumLength != 15 || p.PasswordPolicy.MaximumLength != 256 || !p.PasswordPolicy.BlockCommonPasswords {
			t.Errorf("password policy = %+v, want NIST defaults", p.PasswordPolicy)
		}
		if p.Tokens != (identity.TokenLifetimes{ID: DefaultIDTokenTTL, Access: DefaultAccessTokenTTL, Refresh: DefaultRefreshTokenTTL}) {
			t.Errorf("tokens = %+v", p.Tokens)
		}
		got, err := e.s.GetPool(e.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Test pool" || got.PasswordPolicy.MinimumLength != 15 || got.Tokens != p.Tokens {
			t.Errorf("stored pool = %+v", got)
		}
		// The first signing key exists once CreatePool returns.
		jwks, err := e.s.JWKS(e.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) == 0 {
			t.Fatalf("JWKS = %s (%v), want at least one key", jwks, err)
		}
		if a := e.auditActions(p.ID); len(a) != 1 || a[0] != "pool.create" {
			t.Errorf("audit = %v, want [pool.create]", a)
		}
	})
}

func TestCreatePoolOptions(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.Region = "eu-west-2"
			in.Domains = []string{"ID.Example.com", "login.example.org"}
			in.BaseURL = "https://id.example.com/"
			in.UsernameMode = identity.UsernameWithEmailAlias
			in.SigningAlg = "RS256"
			in.PasswordPolicy = &identity.PasswordPolicy{MinimumLength: 8, RequireNumbers: true}
			in.Schema = []identity.AttributeDef{{Name: "custom:company_name", Mutable: true}, {Name: "custom:age", Type: identity.AttrNumber, MinValue: admInt64p(0)}}
			in.Tokens.Access = 10 * time.Minute
		})
		if !strings.HasPrefix(p.ID, "eu-west-2_") {
			t.Errorf("id = %s", p.ID)
		}
		if strings.Join(p.Domains, ",") != "id.example.com,login.example.org" {
			t.Errorf("domains = %v, want lower-cased", p.Domains)
		}
		if p.BaseURL != "https://id.example.com" {
			t.Errorf("base URL = %q, want no trailing slash", p.BaseURL)
		}
		if p.PasswordPolicy.MinimumLength != 8 || p.PasswordPolicy.MaximumLength != 256 || p.PasswordPolicy.TemporaryPasswordValidityDays != 7 {
			t.Errorf("policy = %+v, want zero fields defaulted", p.PasswordPolicy)
		}
		if p.Schema[0].Type != identity.AttrString {
			t.Errorf("schema type default = %q", p.Schema[0].Type)
		}
		if p.Tokens.Access != 10*time.Minute || p.Tokens.ID != DefaultIDTokenTTL {
			t.Errorf("tokens = %+v", p.Tokens)
		}
		if e.s.Issuer(p) != "https://id.example.com/"+p.ID {
			t.Errorf("issuer = %s", e.s.Issuer(p))
		}

		// A fixed id is kept; a second pool with it is a conflict; a second
		// pool claiming a used domain is a conflict.
		fixed := e.pool(func(in *CreatePoolInput) { in.ID = "eu-central-1_Fixed1234" })
		if fixed.ID != "eu-central-1_Fixed1234" {
			t.Errorf("fixed id = %s", fixed.ID)
		}
		_, err := e.s.CreatePool(e.ctx, CreatePoolInput{Name: "again", ID: "eu-central-1_Fixed1234"})
		admWantCode(t, err, identity.CodeConflict)
		_, err = e.s.CreatePool(e.ctx, CreatePoolInput{Name: "dup domain", Domains: []string{"login.example.org"}})
		admWantCode(t, err, identity.CodeConflict)
	})
}

func TestCreatePoolInvalid(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		long := strings.Repeat("x", 129)
		manyAttrs := make([]identity.AttributeDef, 51)
		for i := range manyAttrs {
			manyAttrs[i] = identity.AttributeDef{Name: "custom:a" + strings.Repeat("b", i%10) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Type: identity.AttrString}
		}
		pol := func(f func(*identity.PasswordPolicy)) *identity.PasswordPolicy {
			p := identity.DefaultPasswordPolicy()
			f(&p)
			return &p
		}
		cases := []struct {
			name  string
			in    CreatePoolInput
			field string
		}{
			{"no name", CreatePoolInput{}, "name"},
			{"blank name", CreatePoolInput{Name: "   "}, "name"},
			{"long name", CreatePoolInput{Name: long}, "name"},
			{"control in name", CreatePoolInput{Name: "a\x00b"}, "name"},
			{"bad region", CreatePoolInput{Name: "p", Region: "mars"}, "region"},
			{"region upper", CreatePoolInput{Name: "p", Region: "US-EAST-1"}, "region"},
			{"bad id", CreatePoolInput{Name: "p", ID: "nope"}, "id"},
			{"id bad suffix", CreatePoolInput{Name: "p", ID: "us-east-1_ab-c"}, "id"},
			{"id region mismatch", CreatePoolInput{Name: "p", ID: "us-east-1_abc", Region: "eu-west-1"}, "id"},
			{"username mode", CreatePoolInput{Name: "p", UsernameMode: "phone"}, "username_mode"},
			{"domain with scheme", CreatePoolInput{Name: "p", Domains: []string{"https://x.example.com"}}, "domains"},
			{"domain with port", CreatePoolInput{Name: "p", Domains: []string{"x.example.com:443"}}, "domains"},
			{"domain dup", CreatePoolInput{Name: "p", Domains: []string{"a.example.com", "A.example.com"}}, "domains"},
			{"domain empty", CreatePoolInput{Name: "p", Domains: []string{""}}, "domains"},
			{"domain bad label", CreatePoolInput{Name: "p", Domains: []string{"-a.example.com"}}, "domains"},
			{"base url relative", CreatePoolInput{Name: "p", BaseURL: "/id"}, "base_url"},
			{"base url ftp", CreatePoolInput{Name: "p", BaseURL: "ftp://id.example.com"}, "base_url"},
			{"base url query", CreatePoolInput{Name: "p", BaseURL: "https://id.example.com/?a=1"}, "base_url"},
			{"base url fragment", CreatePoolInput{Name: "p", BaseURL: "https://id.example.com/#x"}, "base_url"},
			{"base url userinfo", CreatePoolInput{Name: "p", BaseURL: "https://a@id.example.com"}, "base_url"},
			{"min length 5", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.MinimumLength = 5 })}, "password_policy.minimum_length"},
			{"min length 100", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.MinimumLength = 100 })}, "password_policy.minimum_length"},
			{"max length 63", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.MaximumLength = 63 })}, "password_policy.maximum_length"},
			{"max length 257", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.MaximumLength = 257 })}, "password_policy.maximum_length"},
			{"min length above max", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.MinimumLength = 80; p.MaximumLength = 64 })}, "password_policy.minimum_length"},
			{"temp days", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.TemporaryPasswordValidityDays = 366 })}, "password_policy.temporary_password_validity_days"},
			{"blocked word empty", CreatePoolInput{Name: "p", PasswordPolicy: pol(func(p *identity.PasswordPolicy) { p.BlockedWords = []string{" "} })}, "password_policy.blocked_words"},
			{"id token short", CreatePoolInput{Name: "p", Tokens: identity.TokenLifetimes{ID: time.Minute}}, "tokens.id"},
			{"access token long", CreatePoolInput{Name: "p", Tokens: identity.TokenLifetimes{Access: 25 * time.Hour}}, "tokens.access"},
			{"refresh short", CreatePoolInput{Name: "p", Tokens: identity.TokenLifetimes{Refresh: time.Minute}}, "tokens.refresh"},
			{"refresh long", CreatePoolInput{Name: "p", Tokens: identity.TokenLifetimes{Refresh: 3651 * 24 * time.Hour}}, "tokens.refresh"},
			{"negative token", CreatePoolInput{Name: "p", Tokens: identity.TokenLifetimes{ID: -time.Hour}}, "tokens.id"},
			{"alg", CreatePoolInput{Name: "p", SigningAlg: "HS256"}, "signing_alg"},
			{"alg none", CreatePoolInput{Name: "p", SigningAlg: "none"}, "signing_alg"},
			{"max failures", CreatePoolInput{Name: "p", MaxFailedAttempts: 101}, "max_failed_attempts"},
			{"negative failures", CreatePoolInput{Name: "p", MaxFailedAttempts: -1}, "max_failed_attempts"},
			{"lockout", CreatePoolInput{Name: "p", LockoutDuration: 25 * time.Hour}, "lockout_duration"},
			{"attr no prefix", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "company"}}}, "schema"},
			{"attr long name", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:" + strings.Repeat("a", 21)}}}, "schema"},
			{"attr bad char", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:a b"}}}, "schema"},
			{"attr type", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:a", Type: "Blob"}}}, "custom:a"},
			{"attr dup", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:a"}, {Name: "custom:a"}}}, "schema"},
			{"attr too many", CreatePoolInput{Name: "p", Schema: manyAttrs}, "schema"},
			{"attr min>max len", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:a", MinLength: 5, MaxLength: 4}}}, "custom:a"},
			{"attr max len", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:a", MaxLength: 2049}}}, "custom:a"},
			{"attr min>max value", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:n", Type: identity.AttrNumber, MinValue: admInt64p(5), MaxValue: admInt64p(1)}}}, "custom:n"},
			{"attr string with value bounds", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:a", MaxValue: admInt64p(1)}}}, "custom:a"},
			{"attr bool with length", CreatePoolInput{Name: "p", Schema: []identity.AttributeDef{{Name: "custom:b", Type: identity.AttrBoolean, MaxLength: 3}}}, "custom:b"},
		}
		for _, c := range cases {
			_, err := e.s.CreatePool(e.ctx, c.in)
			ie := admWantCode(t, err, identity.CodeInvalidParameter)
			if ie.Field != c.field {
				t.Errorf("%s: field = %q (%s), want %q", c.name, ie.Field, ie.Message, c.field)
			}
			if ie.Message == "" {
				t.Errorf("%s: empty message", c.name)
			}
		}
		ps, _, err := e.s.ListPools(e.ctx, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 0 {
			t.Errorf("invalid inputs wrote %d pools", len(ps))
		}
		if a := e.auditActions(""); len(a) != 0 {
			t.Errorf("invalid inputs wrote audit events %v", a)
		}
	})
}

func TestUpdatePool(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.Schema = []identity.AttributeDef{{Name: "custom:team", Mutable: true}}
		})
		other := e.pool(func(in *CreatePoolInput) { in.Domains = []string{"other.example.com"} })

		p.Name = "Renamed"
		p.AdminCreateUserOnly = true
		p.Tokens.Refresh = 2 * time.Hour
		got, err := e.s.UpdatePool(e.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := e.s.GetPool(e.ctx, p.ID)
		if stored.Name != "Renamed" || !stored.AdminCreateUserOnly || stored.Tokens.Refresh != 2*time.Hour || !stored.CreatedAt.Equal(p.CreatedAt) {
			t.Errorf("stored = %+v", stored)
		}
		if got.Name != "Renamed" {
			t.Errorf("returned = %+v", got)
		}

		bad := []struct {
			name   string
			mutate func(*identity.Pool)
			code   identity.Code
		}{
			{"schema shrink", func(p *identity.Pool) { p.Schema = []identity.AttributeDef{} }, identity.CodeInvalidParameter},
			{"schema change", func(p *identity.Pool) { p.Schema[0].Mutable = false }, identity.CodeInvalidParameter},
			{"username mode", func(p *identity.Pool) { p.UsernameMode = identity.UsernameWithEmailAlias }, identity.CodeInvalidParameter},
			{"signing alg", func(p *identity.Pool) { p.SigningAlg = "HS256" }, identity.CodeInvalidParameter},
			{"no name", func(p *identity.Pool) { p.Name = "" }, identity.CodeInvalidParameter},
			{"min length", func(p *identity.Pool) { p.PasswordPolicy.MinimumLength = 3 }, identity.CodeInvalidParameter},
			{"domain taken", func(p *identity.Pool) { p.Domains = []string{"other.example.com"} }, identity.CodeConflict},
			{"unknown pool", func(p *identity.Pool) { p.ID = "us-east-1_Unknown12" }, identity.CodeResourceNotFound},
		}
		for _, c := range bad {
			cp, _ := e.s.GetPool(e.ctx, p.ID)
			c.mutate(cp)
			_, err := e.s.UpdatePool(e.ctx, cp)
			admWantCode(t, err, c.code)
			after, _ := e.s.GetPool(e.ctx, p.ID)
			if after.Name != "Renamed" || len(after.Schema) != 1 || after.UpdatedAt != stored.UpdatedAt {
				t.Errorf("%s: pool changed: %+v", c.name, after)
			}
		}
		_ = other

		// Unique email can be turned on only while the pool is empty.
		up := e.pool(func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias })
		empty := e.pool(func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias })
		e.user(up, "ann", map[string]string{"email": "a@example.com"})
		up.UniqueEmail = true
		_, err = e.s.UpdatePool(e.ctx, up)
		admWantCode(t, err, identity.CodeInvalidParameter)
		empty.UniqueEmail = true
		if _, err := e.s.UpdatePool(e.ctx, empty); err != nil {
			t.Errorf("unique email on an empty pool: %v", err)
		}

		// nil schema keeps the stored one.
		cp, _ := e.s.GetPool(e.ctx, p.ID)
		cp.Schema = nil
		if _, err := e.s.UpdatePool(e.ctx, cp); err != nil {
			t.Fatal(err)
		}
		if after, _ := e.s.GetPool(e.ctx, p.ID); len(after.Schema) != 1 {
			t.Errorf("schema = %+v", after.Schema)
		}
	})
}

func TestAddCustomAttributes(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		if err := e.s.AddCustomAttributes(e.ctx, p.ID, []identity.AttributeDef{{Name: "company_name", Mutable: true}, {Name: "custom:level", Type: identity.AttrNumber}}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.s.GetPool(e.ctx, p.ID)
		if len(got.Schema) != 2 || got.Schema[0].Name != "custom:company_name" || got.Schema[0].Type != identity.AttrString || got.Schema[1].Name != "custom:level" {
			t.Fatalf("schema = %+v", got.Schema)
		}
		bad := [][]identity.AttributeDef{
			nil,
			{{Name: "company_name"}},                  // duplicate of existing
			{{Name: "x"}, {Name: "x"}},                // duplicate in call
			{{Name: "req", Required: true}},           // required
			{{Name: "bad name"}},                      // syntax
			{{Name: "custom:t", Type: "Whatever"}},    // type
			{{Name: strings.Repeat("a", 21)}},         // length
			make([]identity.AttributeDef, 49),         // 2 + 49 > 50 (and empty names)
			{{Name: "n", MinLength: 3, MaxLength: 2}}, // bounds
		}
		for i := range 49 {
			bad[7][i] = identity.AttributeDef{Name: "c" + strings.Repeat("x", i%10) + string(rune('a'+i%26)) + string(rune('a'+i/26))}
		}
		for i, attrs := range bad {
			err := e.s.AddCustomAttributes(e.ctx, p.ID, attrs)
			admWantCode(t, err, identity.CodeInvalidParameter)
			if got, _ := e.s.GetPool(e.ctx, p.ID); len(got.Schema) != 2 {
				t.Fatalf("case %d changed the schema: %d attributes", i, len(got.Schema))
			}
		}
		admWantCode(t, e.s.AddCustomAttributes(e.ctx, "us-east-1_Unknown12", []identity.AttributeDef{{Name: "x"}}), identity.CodeResourceNotFound)
	})
}

func TestDeletePoolAndKeys(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		k, err := e.s.RotateSigningKey(e.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if k.PoolID != p.ID || k.KID == "" {
			t.Errorf("rotated key = %+v", k)
		}
		if _, err := e.s.RotateSigningKey(e.ctx, "us-east-1_Unknown12"); err == nil {
			t.Fatal("rotate on unknown pool succeeded")
		} else {
			admWantCode(t, err, identity.CodeResourceNotFound)
		}
		if err := e.s.DeletePool(e.ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.GetPool(e.ctx, p.ID)
		admWantCode(t, err, identity.CodeResourceNotFound)
		_, err = e.s.JWKS(e.ctx, p.ID)
		admWantCode(t, err, identity.CodeResourceNotFound)
		admWantCode(t, e.s.DeletePool(e.ctx, p.ID), identity.CodeResourceNotFound)
		// The audit log outlives the pool.
		a := e.auditActions(p.ID)
		if len(a) < 3 || !contains(a, "pool.delete") || !contains(a, "pool.rotate_key") {
			t.Errorf("audit = %v", a)
		}
	})
}

func TestListPoolsPaging(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		for range 3 {
			e.pool(nil)
		}
		seen := map[string]bool{}
		tok := ""
		for pages := 0; ; pages++ {
			ps, next, err := e.s.ListPools(e.ctx, 2, tok)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				seen[p.ID] = true
			}
			if next == "" {
				break
			}
			tok = next
			if pages > 5 {
				t.Fatal("too many pages")
			}
		}
		if len(seen) != 3 {
			t.Errorf("saw %d pools", len(seen))
		}
		for _, l := range []int{-1, 61} {
			_, _, err := e.s.ListPools(e.ctx, l, "")
			admWantCode(t, err, identity.CodeInvalidParameter)
		}
		_, _, err := e.s.ListPools(e.ctx, 10, "garbage!")
		admWantCode(t, err, identity.CodeInvalidParameter)
	})
}
