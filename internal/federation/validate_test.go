package federation_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ip   identity.IdentityProvider
		want string // "" valid
	}{
		{"google default issuer", identity.IdentityProvider{Name: "Google", Type: "Google", ClientID: "c"}, ""},
		{"oidc", identity.IdentityProvider{Name: "corp", Type: "OIDC", Issuer: "https://login.corp.example", ClientID: "c"}, ""},
		{"oidc loopback http", identity.IdentityProvider{Name: "dev", Type: "OIDC", Issuer: "http://127.0.0.1:9000/p", ClientID: "c"}, ""},
		{"facebook", identity.IdentityProvider{Name: "Facebook", Type: "Facebook", ClientID: "123"}, ""},
		{"empty name", identity.IdentityProvider{Type: "OIDC", Issuer: "https://x.example", ClientID: "c"}, "provider name"},
		{"name with space", identity.IdentityProvider{Name: "a b", Type: "OIDC", Issuer: "https://x.example", ClientID: "c"}, "provider name"},
		{"long name", identity.IdentityProvider{Name: strings.Repeat("a", 33), Type: "Google", ClientID: "c"}, "provider name"},
		{"unknown type", identity.IdentityProvider{Name: "x", Type: "SAML", ClientID: "c"}, "type must be"},
		{"oidc without issuer", identity.IdentityProvider{Name: "x", Type: "OIDC", ClientID: "c"}, "needs its issuer"},
		{"http issuer", identity.IdentityProvider{Name: "x", Type: "OIDC", Issuer: "http://x.example", ClientID: "c"}, "https URL"},
		{"issuer with user", identity.IdentityProvider{Name: "x", Type: "OIDC", Issuer: "https://u@x.example", ClientID: "c"}, "https URL"},
		{"facebook with issuer", identity.IdentityProvider{Name: "x", Type: "Facebook", Issuer: "https://x.example", ClientID: "c"}, "no issuer"},
		{"no client id", identity.IdentityProvider{Name: "x", Type: "Google"}, "client_id"},
		{"bad scope", identity.IdentityProvider{Name: "x", Type: "Google", ClientID: "c", Scopes: []string{"a b"}}, "bad scope"},
		{"map sub", identity.IdentityProvider{Name: "x", Type: "Google", ClientID: "c", AttributeMapping: map[string]string{"sub": "sub"}}, "cannot map"},
		{"map email_verified", identity.IdentityProvider{Name: "x", Type: "Google", ClientID: "c", AttributeMapping: map[string]string{"email_verified": "x"}}, "cannot map"},
		{"graph http", identity.IdentityProvider{Name: "x", Type: "Facebook", ClientID: "c", GraphURL: "http://graph.example"}, "https URL"},
	} {
		ip := tc.ip
		err := federation.Validate(&ip)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || identity.ErrorCode(err) != identity.CodeInvalidParameter):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if tc.name == "google default issuer" && ip.Issuer != identity.GoogleIssuer {
			t.Errorf("Google issuer %q", ip.Issuer)
		}
	}
}

func TestMapAttributes(t *testing.T) {
	t.Parallel()
	claims := map[string]any{"email": "a@b.example", "name": "A", "org": "Acme", "age": float64(42), "ok": true, "list": []any{"x"}, "empty": ""}
	got := federation.MapAttributes(&identity.IdentityProvider{AttributeMapping: map[string]string{
		"email": "email", "name": "name", "custom:company_name": "org", "custom:age": "age", "custom:ok": "ok",
		"custom:list": "list", "custom:empty": "empty", "custom:missing": "nope"}}, claims)
	want := map[string]string{"email": "a@b.example", "name": "A", "custom:company_name": "Acme", "custom:age": "42", "custom:ok": "true"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %q want %q (%v)", k, got[k], v, got)
		}
	}
	if d := federation.MapAttributes(&identity.IdentityProvider{}, claims); len(d) != 1 || d["email"] != "a@b.example" {
		t.Fatalf("default mapping %v", d)
	}
}

func TestRequestState(t *testing.T) {
	t.Parallel()
	r, err := federation.NewRequest(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.State) != 43 || len(r.Nonce) != 43 || len(r.Verifier) != 43 || r.State == r.Nonce {
		t.Fatalf("request %+v", r)
	}
	if !r.StateMatches(r.State) || r.StateMatches("") || r.StateMatches(r.State+"x") || (&federation.Request{}).StateMatches("") {
		t.Fatal("StateMatches")
	}
}
