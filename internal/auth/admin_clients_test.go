package auth

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func TestCreateClient(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.Schema = []identity.AttributeDef{{Name: "custom:team", Mutable: true}}
		})
		cc, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p.ID, Name: "web", GenerateSecret: true,
			CallbackURLs: []string{"https://app.example.com/cb?x=1", "http://localhost:3000/cb"},
			OAuthFlows:   []string{"code", "client_credentials"}, OAuthScopes: []string{"openid", "email", "api/read"},
			ReadAttributes: []string{"email", "custom:team", "sub"}, WriteAttributes: []string{"name", "custom:team"}})
		if err != nil {
			t.Fatal(err)
		}
		c := cc.Client
		if !regexp.MustCompile(`^[a-z0-9]{26}$`).MatchString(c.ID) {
			t.Errorf("client id = %q", c.ID)
		}
		if len(cc.Secret) != 51 || c.SecretHash != sha256Hex(cc.Secret) {
			t.Errorf("secret %q (len %d), hash %q", cc.Secret, len(cc.Secret), c.SecretHash)
		}
		if strings.Join(c.AuthFlows, ",") != strings.Join(DefaultAuthFlows, ",") {
			t.Errorf("auth flows = %v", c.AuthFlows)
		}
		got, err := e.s.GetClient(e.ctx, p.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SecretHash != c.SecretHash || got.CallbackURLs[0] != "https://app.example.com/cb?x=1" || got.Name != "web" {
			t.Errorf("stored = %+v", got)
		}
		// The secret verifies through resolveClient, the path every flow takes.
		if _, _, err := e.s.resolveClient(e.ctx, Client{ID: c.ID, Secret: cc.Secret}, ""); err != nil {
			t.Errorf("resolveClient with the secret: %v", err)
		}

		// A client of another pool is not found through this one.
		other := e.pool(nil)
		_, err = e.s.GetClient(e.ctx, other.ID, c.ID)
		admWantCode(t, err, identity.CodeResourceNotFound)
		admWantCode(t, e.s.DeleteClient(e.ctx, other.ID, c.ID), identity.CodeResourceNotFound)

		// Update keeps the secret and the creation time.
		e.advance(time.Minute)
		got.Name = "web app"
		got.SecretHash = "tampered"
		got.AuthFlows = []string{identity.FlowUserPassword, identity.FlowRefreshToken}
		up, err := e.s.UpdateClient(e.ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := e.s.GetClient(e.ctx, p.ID, c.ID)
		if stored.Name != "web app" || stored.SecretHash != c.SecretHash || !stored.CreatedAt.Equal(c.CreatedAt) || len(stored.AuthFlows) != 2 || up.SecretHash != c.SecretHash {
			t.Errorf("after update = %+v", stored)
		}

		// Regenerating replaces the secret: the old one stops working.
		rc, err := e.s.RegenerateClientSecret(e.ctx, p.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Secret == cc.Secret || len(rc.Secret) != 51 {
			t.Errorf("new secret %q", rc.Secret)
		}
		_, _, err = e.s.resolveClient(e.ctx, Client{ID: c.ID, Secret: cc.Secret}, "")
		admWantCode(t, err, identity.CodeNotAuthorized)
		if _, _, err := e.s.resolveClient(e.ctx, Client{ID: c.ID, Secret: rc.Secret}, ""); err != nil {
			t.Errorf("new secret: %v", err)
		}

		cs, next, err := e.s.ListClients(e.ctx, p.ID, 0, "")
		if err != nil || len(cs) != 1 || next != "" {
			t.Errorf("ListClients = %d, %q, %v", len(cs), next, err)
		}
		if err := e.s.DeleteClient(e.ctx, p.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.GetClient(e.ctx, p.ID, c.ID)
		admWantCode(t, err, identity.CodeResourceNotFound)
		_, _, err = e.s.resolveClient(e.ctx, Client{ID: c.ID, Secret: rc.Secret}, "")
		admWantCode(t, err, identity.CodeResourceNotFound)

		a := e.auditActions(p.ID)
		for _, want := range []string{"client.create", "client.update", "client.regenerate_secret", "client.delete"} {
			if !contains(a, want) {
				t.Errorf("audit %v lacks %s", a, want)
			}
		}
	})
}

func TestCreateClientFixedIDAndPublic(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		cc, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p.ID, ID: "3n4b5urk1ft4fl3mg5e62d9ado", Name: "spa"})
		if err != nil {
			t.Fatal(err)
		}
		if cc.Secret != "" || cc.Client.HasSecret() || cc.Client.ID != "3n4b5urk1ft4fl3mg5e62d9ado" {
			t.Errorf("public client = %+v, secret %q", cc.Client, cc.Secret)
		}
		_, err = e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p.ID, ID: "3n4b5urk1ft4fl3mg5e62d9ado", Name: "again"})
		admWantCode(t, err, identity.CodeConflict)
		_, err = e.s.CreateClient(e.ctx, CreateClientInput{PoolID: "us-east-1_Unknown12", Name: "x"})
		admWantCode(t, err, identity.CodeResourceNotFound)
	})
}

func TestCreateClientInvalid(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		urls := make([]string, 101)
		for i := range urls {
			urls[i] = "https://app.example.com/cb" + strings.Repeat("x", i)
		}
		cases := []struct {
			name  string
			in    CreateClientInput
			field string
		}{
			{"no name", CreateClientInput{}, "name"},
			{"long name", CreateClientInput{Name: strings.Repeat("n", 129)}, "name"},
			{"control name", CreateClientInput{Name: "a\nb"}, "name"},
			{"bad id", CreateClientInput{Name: "c", ID: "has space"}, "client_id"},
			{"unknown flow", CreateClientInput{Name: "c", AuthFlows: []string{"USER_PASSWORD_AUTH"}}, "auth_flows"},
			{"dup flow", CreateClientInput{Name: "c", AuthFlows: []string{identity.FlowUserSRP, identity.FlowUserSRP}}, "auth_flows"},
			{"token ttl", CreateClientInput{Name: "c", Tokens: identity.TokenLifetimes{Access: time.Second}}, "tokens.access"},
			{"read unknown", CreateClientInput{Name: "c", ReadAttributes: []string{"custom:nope"}}, "read_attributes"},
			{"write verified", CreateClientInput{Name: "c", WriteAttributes: []string{"email_verified"}}, "write_attributes"},
			{"write sub", CreateClientInput{Name: "c", WriteAttributes: []string{"sub"}}, "write_attributes"},
			{"callback http", CreateClientInput{Name: "c", CallbackURLs: []string{"http://app.example.com/cb"}}, "callback_urls"},
			{"callback relative", CreateClientInput{Name: "c", CallbackURLs: []string{"/cb"}}, "callback_urls"},
			{"callback fragment", CreateClientInput{Name: "c", CallbackURLs: []string{"https://app.example.com/cb#x"}}, "callback_urls"},
			{"callback userinfo", CreateClientInput{Name: "c", CallbackURLs: []string{"https://evil.com@app.example.com/cb"}}, "callback_urls"},
			{"callback scheme", CreateClientInput{Name: "c", CallbackURLs: []string{"javascript:alert(1)"}}, "callback_urls"},
			{"callback custom scheme", CreateClientInput{Name: "c", CallbackURLs: []string{"myapp://cb"}}, "callback_urls"},
			{"callback space", CreateClientInput{Name: "c", CallbackURLs: []string{"https://app.example.com/c b"}}, "callback_urls"},
			{"callback backslash", CreateClientInput{Name: "c", CallbackURLs: []string{`https://app.example.com\@evil.com/`}}, "callback_urls"},
			{"callback dup", CreateClientInput{Name: "c", CallbackURLs: []string{"https://a.example.com/", "https://a.example.com/"}}, "callback_urls"},
			{"callback too many", CreateClientInput{Name: "c", CallbackURLs: urls}, "callback_urls"},
			{"logout http", CreateClientInput{Name: "c", LogoutURLs: []string{"http://app.example.com/"}}, "logout_urls"},
			{"oauth implicit", CreateClientInput{Name: "c", OAuthFlows: []string{"implicit"}, CallbackURLs: []string{"https://a.example.com/"}}, "oauth_flows"},
			{"code without callback", CreateClientInput{Name: "c", OAuthFlows: []string{"code"}}, "callback_urls"},
			{"client credentials public", CreateClientInput{Name: "c", OAuthFlows: []string{"client_credentials"}}, "oauth_flows"},
			{"scope space", CreateClientInput{Name: "c", OAuthScopes: []string{"open id"}}, "oauth_scopes"},
			{"scope quote", CreateClientInput{Name: "c", OAuthScopes: []string{`a"b`}}, "oauth_scopes"},
			{"scope empty", CreateClientInput{Name: "c", OAuthScopes: []string{""}}, "oauth_scopes"},
		}
		for _, c := range cases {
			c.in.PoolID = p.ID
			_, err := e.s.CreateClient(e.ctx, c.in)
			ie := admWantCode(t, err, identity.CodeInvalidParameter)
			if ie.Field != c.field {
				t.Errorf("%s: field = %q (%s), want %q", c.name, ie.Field, ie.Message, c.field)
			}
		}
		cs, _, err := e.st.ListClients(e.ctx, p.ID, store.Page{})
		if err != nil || len(cs) != 0 {
			t.Errorf("invalid inputs wrote %d clients (%v)", len(cs), err)
		}
	})
}
