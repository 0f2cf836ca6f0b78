package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// routeRecorder wraps the server handler and remembers which ServeMux
// patterns answered with a status below 500.
type routeRecorder struct {
	mu   sync.Mutex
	seen map[string]bool
	next http.Handler
}

func (rr *routeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	rr.next.ServeHTTP(sw, r)
	if p := r.Pattern; p != "" && sw.status < 500 {
		rr.mu.Lock()
		rr.seen[p] = true
		rr.mu.Unlock()
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(c int) {
	if s.status == 0 {
		s.status = c
	}
	s.ResponseWriter.WriteHeader(c)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = 200
	}
	return s.ResponseWriter.Write(b)
}

// TestEveryRoute drives every documented route against the real service
// with a successful request and checks the shapes; at the end, every
// operation in the OpenAPI document must have been answered below 500.
func TestEveryRoute(t *testing.T) {
	t.Parallel()
	rec := &routeRecorder{seen: map[string]bool{}}
	e := setup(t, func(h http.Handler) http.Handler { rec.next = h; return rec })

	// ---- pools ----
	var pool struct {
		ID, Name, Issuer string
		PasswordPolicy   struct {
			MinimumLength        int  `json:"minimum_length"`
			BlockCommonPasswords bool `json:"block_common_passwords"`
		} `json:"password_policy"`
		TokenLifetimes struct {
			AccessTokenSeconds int64 `json:"access_token_seconds"`
		} `json:"token_lifetimes"`
		Schema []struct{ Name string }
	}
	e.must(201, e.admin("POST", "/api/v1/pools", map[string]any{
		"name": "routes", "password_policy": map[string]any{"minimum_length": 12},
		"token_lifetimes": map[string]any{"access_token_seconds": 900},
	})).json(t, &pool)
	if pool.PasswordPolicy.MinimumLength != 12 || !pool.PasswordPolicy.BlockCommonPasswords ||
		pool.TokenLifetimes.AccessTokenSeconds != 900 || pool.Issuer != baseURL+"/"+pool.ID {
		t.Fatalf("created pool %+v", pool)
	}
	P := "/api/v1/pools/" + pool.ID
	var pools struct{ Items []struct{ ID string } }
	e.must(200, e.admin("GET", "/api/v1/pools", nil)).json(t, &pools)
	if len(pools.Items) != 1 || pools.Items[0].ID != pool.ID {
		t.Fatalf("pools %+v", pools)
	}
	e.must(200, e.admin("PATCH", P, map[string]any{"name": "renamed", "password_policy": map[string]any{"require_numbers": true}})).json(t, &pool)
	if pool.Name != "renamed" || pool.PasswordPolicy.MinimumLength != 12 {
		t.Fatalf("patched pool %+v", pool)
	}
	e.must(204, e.admin("POST", P+"/custom-attributes", map[string]any{
		"attributes": []map[string]any{{"name": "custom:company_name", "type": "String", "mutable": true}},
	}))
	e.must(200, e.admin("GET", P, nil)).json(t, &pool)
	if len(pool.Schema) != 1 || pool.Schema[0].Name != "custom:company_name" {
		t.Fatalf("schema %+v", pool.Schema)
	}
	var key struct{ KID, Alg, State string }
	r := e.must(200, e.admin("POST", P+"/keys/rotate", nil))
	r.json(t, &key)
	if key.KID == "" || strings.Contains(string(r.body), "private") || strings.Contains(string(r.body), "\"d\"") {
		t.Fatalf("rotated key %s", r.body)
	}

	// ---- hooks (hooks_test.go has the flows) ----
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer hook.Close()
	var hv struct{ Secret string }
	e.must(200, e.admin("PUT", P+"/hooks/post_confirmation", map[string]any{"url": hook.URL})).json(t, &hv)
	if r = e.must(200, e.admin("GET", P+"/hooks", nil)); hv.Secret == "" || strings.Contains(string(r.body), hv.Secret) {
		t.Fatalf("hook secret %q, list %s", hv.Secret, r.body)
	}
	e.must(200, e.admin("POST", P+"/hooks/post_confirmation/test", nil))
	e.must(204, e.admin("DELETE", P+"/hooks/post_confirmation", nil))

	// ---- identity providers (internal/federation has the flows) ----
	e.must(200, e.admin("PUT", P+"/identity-providers/corp", map[string]any{"type": "OIDC", "issuer": "https://login.corp.example",
		"client_id": "gh", "client_secret": "s3cret-value", "attribute_mapping": map[string]string{"email": "email"}}))
	if r = e.must(200, e.admin("GET", P+"/identity-providers", nil)); strings.Contains(string(r.body), "s3cret-value") ||
		!strings.Contains(string(r.body), `"has_client_secret":true`) || !strings.Contains(string(r.body), "/oauth2/idpresponse") {
		t.Fatalf("identity providers: %s", r.body)
	}
	e.must(400, e.admin("PUT", P+"/identity-providers/bad", map[string]any{"type": "SAML", "client_id": "x"}))
	e.must(204, e.admin("DELETE", P+"/identity-providers/corp", nil))
	e.must(404, e.admin("DELETE", P+"/identity-providers/corp", nil))

	// ---- clients ----
	type client struct {
		ID           string
		ClientSecret string `json:"client_secret"`
		HasSecret    bool   `json:"has_secret"`
		Name         string
		AuthFlows    []string `json:"auth_flows"`
	}
	var pub, conf client
	e.must(201, e.admin("POST", P+"/clients", map[string]any{
		"name": "web", "auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	})).json(t, &pub)
	e.must(201, e.admin("POST", P+"/clients", map[string]any{
		"name": "backend", "generate_secret": true, "auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	})).json(t, &conf)
	if pub.HasSecret || pub.ClientSecret != "" || !conf.HasSecret || conf.ClientSecret == "" {
		t.Fatalf("clients %+v %+v", pub, conf)
	}
	C := P + "/clients/" + conf.ID
	r = e.must(200, e.admin("GET", C, nil))
	if strings.Contains(string(r.body), conf.ClientSecret) || strings.Contains(string(r.body), "client_secret") {
		t.Fatalf("client read shows the secret: %s", r.body)
	}
	var clients struct{ Items []client }
	r = e.must(200, e.admin("GET", P+"/clients", nil))
	r.json(t, &clients)
	if len(clients.Items) != 2 || strings.Contains(string(r.body), "client_secret") {
		t.Fatalf("clients %s", r.body)
	}
	var patched client
	e.must(200, e.admin("PATCH", C, map[string]any{"name": "backend-2"})).json(t, &patched)
	if patched.Name != "backend-2" || len(patched.AuthFlows) != 2 || !patched.HasSecret {
		t.Fatalf("patched client %+v", patched)
	}
	var regen client
	e.must(200, e.admin("POST", C+"/secret", nil)).json(t, &regen)
	if regen.ClientSecret == "" || regen.ClientSecret == conf.ClientSecret {
		t.Fatalf("regenerated secret %+v", regen)
	}

	// ---- a confidential client signs a user up with HTTP Basic ----
	const dave = "dave@example.test"
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/auth/sign-up", strings.NewReader(
		`{"username":"`+dave+`","password":"`+goodPassword+`","attributes":{"custom:company_name":"Acme"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(conf.ID, regen.ClientSecret)
	e.must(201, e.send(req))
	// The old secret no longer works.
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/auth/resend-code", strings.NewReader(`{"username":"`+dave+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(conf.ID, conf.ClientSecret)
	if p := e.must(401, e.send(req)).problem(t); p.Code != "not_authorized" {
		t.Fatalf("old secret: %+v", p)
	}
	var cd struct {
		CodeDelivery struct{ Destination string } `json:"code_delivery"`
	}
	e.must(200, e.do("POST", "/api/v1/auth/resend-code", "", map[string]any{
		"client_id": conf.ID, "client_secret": regen.ClientSecret, "username": dave,
	})).json(t, &cd)
	if cd.CodeDelivery.Destination == "" {
		t.Fatal("resend-code without a destination")
	}
	e.must(204, e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{
		"client_id": conf.ID, "client_secret": regen.ClientSecret, "username": dave, "code": e.lastCode(pool.ID, dave),
	}))

	// ---- users ----
	const erin = "erin@example.test"
	var u struct {
		Sub, Username, Status string
		Enabled               bool
		Attributes            map[string]string
		Groups                []string
	}
	e.must(201, e.admin("POST", P+"/users", map[string]any{
		"username": erin, "attributes": map[string]string{"email_verified": "true"}, "temporary_password": "temporary pass 1234",
		"message_action": "SUPPRESS",
	})).json(t, &u)
	if u.Status != "FORCE_CHANGE_PASSWORD" || !u.Enabled {
		t.Fatalf("created user %+v", u)
	}
	U := P + "/users/" + url.PathEscape(erin)
	// Users from elsewhere: an import that skips a user who exists.
	var imp struct{ Created, Skipped int }
	e.must(200, e.admin("POST", P+"/users/import", map[string]any{"users": []map[string]any{
		{"username": erin, "email": erin, "enabled": true}}})).json(t, &imp)
	if imp.Skipped != 1 || imp.Created != 0 {
		t.Fatalf("import %+v", imp)
	}

	// Erin's first sign-in is a NEW_PASSWORD_REQUIRED challenge.
	var ch struct {
		ChallengeName       string            `json:"challenge_name"`
		Session             string            `json:"session"`
		ChallengeParameters map[string]string `json:"challenge_parameters"`
	}
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": pub.ID, "username": erin, "password": "temporary pass 1234",
	})).json(t, &ch)
	if ch.ChallengeName != "NEW_PASSWORD_REQUIRED" || ch.Session == "" {
		t.Fatalf("challenge %+v", ch)
	}
	var erinTokens tokens
	e.must(200, e.do("POST", "/api/v1/auth/challenge", "", map[string]any{
		"client_id": pub.ID, "challenge_name": ch.ChallengeName, "session": ch.Session,
		"responses": map[string]string{"USERNAME": erin, "NEW_PASSWORD": goodPassword},
	})).json(t, &erinTokens)
	if erinTokens.AccessToken == "" {
		t.Fatal("no tokens after the challenge")
	}

	e.must(204, e.admin("PATCH", U+"/attributes", map[string]any{"attributes": map[string]string{"name": "Erin", "custom:company_name": "Acme"}}))
	e.must(204, e.admin("DELETE", U+"/attributes", map[string]any{"names": []string{"name"}}))
	e.must(200, e.admin("GET", U, nil)).json(t, &u)
	if u.Attributes["custom:company_name"] != "Acme" || u.Attributes["name"] != "" || u.Status != "CONFIRMED" {
		t.Fatalf("user after attribute changes %+v", u)
	}

	// ---- linked identities (internal/federation has the sign-in) ----
	{
		e.must(200, e.admin("PUT", P+"/identity-providers/corp", map[string]any{"type": "OIDC", "issuer": "https://login.corp.example", "client_id": "gh"}))
		D := P + "/users/" + url.PathEscape(dave)
		const sub = "up/1%x" // escaped in the path
		var link struct {
			Provider, Subject, Issuer string
			ProviderType              string `json:"provider_type"`
		}
		e.must(201, e.admin("POST", D+"/identities", map[string]any{"provider": "corp", "subject": sub})).json(t, &link)
		if link.Provider != "corp" || link.Subject != sub || link.ProviderType != "OIDC" || link.Issuer != "https://login.corp.example" {
			t.Fatalf("link %+v", link)
		}
		var links struct {
			Identities []struct{ Provider, Subject string }
		}
		e.must(200, e.admin("GET", D+"/identities", nil)).json(t, &links)
		if len(links.Identities) != 1 || links.Identities[0].Subject != sub {
			t.Fatalf("links %+v", links)
		}
		if p := e.must(409, e.admin("POST", U+"/identities", map[string]any{"provider": "corp", "subject": sub})).problem(t); p.Code != "conflict" {
			t.Fatalf("link to a second user: %+v", p)
		}
		e.must(400, e.admin("POST", U+"/identities", map[string]any{"provider": "nope", "subject": "x"}))
		e.must(404, e.admin("DELETE", U+"/identities/corp/"+url.PathEscape(sub), nil)) // not Erin's
		e.must(204, e.admin("DELETE", D+"/identities/corp/"+url.PathEscape(sub), nil))
		e.must(404, e.admin("DELETE", D+"/identities/corp/"+url.PathEscape(sub), nil))
		e.must(204, e.admin("DELETE", P+"/identity-providers/corp", nil))
	}

	// ---- groups ----
	var g struct {
		Name, Description string
		Precedence        *int
	}
	e.must(201, e.admin("POST", P+"/groups", map[string]any{"name": "acme", "description": "Acme staff", "precedence": 1})).json(t, &g)
	e.must(201, e.admin("POST", P+"/groups", map[string]any{"name": "tmp"}))
	e.must(200, e.admin("PATCH", P+"/groups/acme", map[string]any{"description": "Acme people"})).json(t, &g)
	if g.Description != "Acme people" || g.Precedence == nil || *g.Precedence != 1 {
		t.Fatalf("patched group %+v", g)
	}
	e.must(200, e.admin("GET", P+"/groups/acme", nil))
	var groups struct{ Items []struct{ Name string } }
	e.must(200, e.admin("GET", P+"/groups", nil)).json(t, &groups)
	if len(groups.Items) != 2 {
		t.Fatalf("groups %+v", groups)
	}
	e.must(204, e.admin("PUT", U+"/groups/acme", nil))
	e.must(204, e.admin("PUT", U+"/groups/tmp", nil))
	e.must(204, e.admin("DELETE", U+"/groups/tmp", nil))
	e.must(204, e.admin("DELETE", P+"/groups/tmp", nil))
	e.must(200, e.admin("GET", U+"/groups", nil)).json(t, &groups)
	if len(groups.Items) != 1 || groups.Items[0].Name != "acme" {
		t.Fatalf("user groups %+v", groups)
	}
	var members struct{ Items []struct{ Username string } }
	e.must(200, e.admin("GET", P+"/groups/acme/users", nil)).json(t, &members)
	if len(members.Items) != 1 || members.Items[0].Username != erin {
		t.Fatalf("members %+v", members)
	}
	if p := e.must(409, e.admin("POST", P+"/groups", map[string]any{"name": "acme"})).problem(t); p.Code != "group_exists" {
		t.Fatalf("duplicate group %+v", p)
	}

	// ---- companies and registrations (internal/approval has the flows) ----
	{
		ap := mustPool(t, e, pool.ID)
		ap.Settings.SignUp = identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{}, CompanyLookup: true}
		if _, err := e.svc.UpdatePool(context.Background(), ap); err != nil {
			t.Fatal(err)
		}
		e.must(201, e.admin("POST", P+"/companies", map[string]any{"name": "Initech", "display_name": "Initech Corp",
			"email_domains": []string{"initech.example"}, "approvers": []map[string]string{{"email": "boss@initech.example"}}}))
		e.must(201, e.admin("POST", P+"/companies", map[string]any{"name": "Tmpco"}))
		e.must(200, e.admin("GET", P+"/companies", nil))
		e.must(200, e.admin("GET", P+"/companies/initech", nil))
		e.must(200, e.admin("PATCH", P+"/companies/initech", map[string]any{"display_name": "Initech Inc"}))
		e.must(200, e.admin("PUT", P+"/companies/initech/identity-provider", map[string]any{"issuer": "https://idp.initech.example",
			"client_id": "gatehouse", "client_secret": "s3cret"}))
		e.must(200, e.admin("GET", P+"/companies/initech/identity-provider", nil))
		// An OIDC provider has no metadata URL to refresh (the 200 is in
		// company_idp_test.go's TestCompanySAMLMetadataURL).
		e.must(400, e.admin("POST", P+"/companies/initech/identity-provider/refresh-metadata", nil))
		e.must(204, e.admin("DELETE", P+"/companies/initech/identity-provider", nil))
		e.must(201, e.admin("POST", P+"/companies/initech/scim-token", nil))
		e.must(204, e.admin("DELETE", P+"/companies/tmpco", nil))
		e.must(200, e.do("GET", P+"/company-names?prefix=ini", "", nil))
		var ids []string
		for _, who := range []string{"peter@x.example", "milton@x.example"} {
			e.must(201, e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": pub.ID, "username": who,
				"password": goodPassword, "attributes": map[string]string{"custom:company_name": "Initech"}}))
			e.must(204, e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": pub.ID, "username": who,
				"code": e.lastCode(pool.ID, who)}))
		}
		var regs struct{ Items []struct{ ID, State string } }
		e.must(200, e.admin("GET", P+"/registrations?state=pending", nil)).json(t, &regs)
		for _, r := range regs.Items {
			ids = append(ids, r.ID)
		}
		if len(ids) != 2 {
			t.Fatalf("registrations %+v", regs)
		}
		e.must(200, e.admin("GET", P+"/registrations/"+ids[0], nil))
		e.must(200, e.admin("POST", P+"/registrations/"+ids[0]+"/approve", nil))
		e.must(200, e.admin("POST", P+"/registrations/"+ids[1]+"/deny", map[string]any{"reason": "not on the list"}))
		ap = mustPool(t, e, pool.ID)
		ap.Settings.SignUp = identity.SignUpPolicy{}
		if _, err := e.svc.UpdatePool(context.Background(), ap); err != nil {
			t.Fatal(err)
		}
	}

	// ---- the user's own account ----
	bearer := "Bearer " + erinTokens.AccessToken
	var me struct {
		Groups     []string
		Attributes map[string]string
	}
	e.must(200, e.do("GET", "/api/v1/me", bearer, nil)).json(t, &me)
	if len(me.Groups) != 1 || me.Groups[0] != "acme" {
		t.Fatalf("me groups %+v", me)
	}
	var cds struct {
		CodeDeliveries []struct{ Destination string } `json:"code_deliveries"`
	}
	e.must(200, e.do("PATCH", "/api/v1/me/attributes", bearer, map[string]any{"attributes": map[string]string{"given_name": "E"}})).json(t, &cds)
	if cds.CodeDeliveries == nil || len(cds.CodeDeliveries) != 0 {
		t.Fatalf("code deliveries for a name change: %+v", cds)
	}
	e.must(204, e.do("DELETE", "/api/v1/me/attributes", bearer, map[string]any{"names": []string{"given_name"}}))
	// A bad request names the request's own field.
	if p := e.must(400, e.do("POST", "/api/v1/me/attribute-verification-code", bearer, map[string]any{"attribute": "given_name"})).problem(t); p.Field != "attribute" {
		t.Fatalf("bad attribute: %+v", p)
	}
	e.must(200, e.do("POST", "/api/v1/me/attribute-verification-code", bearer, map[string]any{"attribute": "email"}))
	e.must(204, e.do("POST", "/api/v1/me/verify-attribute", bearer, map[string]any{"attribute": "email", "code": e.lastCode(pool.ID, erin)}))
	e.must(204, e.do("POST", "/api/v1/me/password", bearer, map[string]any{"previous_password": goodPassword, "proposed_password": otherPassword}))
	if p := e.must(401, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": pub.ID, "username": erin, "password": goodPassword,
	})).problem(t); p.Code != "not_authorized" {
		t.Fatalf("old password after change: %+v", p)
	}

	// ---- recovery ----
	e.must(200, e.do("POST", "/api/v1/auth/forgot-password", "", map[string]any{"client_id": pub.ID, "username": erin}))
	e.must(204, e.do("POST", "/api/v1/auth/confirm-forgot-password", "", map[string]any{
		"client_id": pub.ID, "username": erin, "code": e.lastCode(pool.ID, erin), "password": goodPassword,
	}))
	var t4 tokens
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": pub.ID, "username": erin, "password": goodPassword,
	})).json(t, &t4)
	e.must(204, e.do("POST", "/api/v1/auth/revoke", "", map[string]any{"client_id": pub.ID, "refresh_token": t4.RefreshToken}))
	e.must(401, e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"client_id": pub.ID, "refresh_token": t4.RefreshToken}))

	// ---- administrator actions on the user ----
	e.must(204, e.admin("POST", U+"/sign-out", nil))
	e.must(401, e.do("GET", "/api/v1/me", "Bearer "+t4.AccessToken, nil))
	e.must(204, e.admin("POST", U+"/disable", nil))
	if p := e.must(403, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": pub.ID, "username": erin, "password": goodPassword,
	})).problem(t); p.Code != "user_disabled" {
		t.Fatalf("disabled user sign-in: %+v", p)
	}
	e.must(204, e.admin("POST", U+"/enable", nil))
	e.must(204, e.admin("PUT", U+"/password", map[string]any{"password": otherPassword, "permanent": true}))
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": pub.ID, "username": erin, "password": otherPassword,
	}))
	e.must(204, e.admin("POST", U+"/reset-password", nil))
	if p := e.must(403, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": pub.ID, "username": erin, "password": otherPassword,
	})).problem(t); p.Code != "password_reset_required" {
		t.Fatalf("sign-in after admin reset: %+v", p)
	}

	// An unconfirmed self sign-up, confirmed by the administrator.
	const frank = "frank@example.test"
	e.must(201, e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": pub.ID, "username": frank, "password": goodPassword}))
	e.must(204, e.admin("POST", P+"/users/"+url.PathEscape(frank)+"/confirm", nil))
	var ft tokens
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": pub.ID, "username": frank, "password": goodPassword})).json(t, &ft)
	e.must(204, e.do("DELETE", "/api/v1/me", "Bearer "+ft.AccessToken, nil))
	e.must(404, e.admin("GET", P+"/users/"+url.PathEscape(frank), nil))

	var users struct{ Items []struct{ Username string } }
	e.must(200, e.admin("GET", P+"/users?limit=1", nil)).json(t, &users)
	if len(users.Items) != 1 {
		t.Fatalf("limit=1 gave %d users", len(users.Items))
	}
	var dt tokens
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": conf.ID, "client_secret": regen.ClientSecret, "username": dave, "password": goodPassword,
	})).json(t, &dt)
	// Sessions (TestSessionsNative walks them): a second sign-in of dave's
	// is listed and ended by him, a third by the administrator.
	signInDave := func() string {
		var x tokens
		e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
			"client_id": conf.ID, "client_secret": regen.ClientSecret, "username": dave, "password": goodPassword,
		})).json(t, &x)
		return "Bearer " + x.AccessToken
	}
	second, third := signInDave(), signInDave()
	e.must(200, e.do("GET", "/api/v1/me/sessions", "Bearer "+dt.AccessToken, nil))
	e.must(204, e.do("DELETE", "/api/v1/me/sessions/"+currentSession(t, e, second), "Bearer "+dt.AccessToken, nil))
	e.must(200, e.admin("GET", P+"/users/"+url.PathEscape(dave)+"/sessions", nil))
	e.must(204, e.admin("DELETE", P+"/users/"+url.PathEscape(dave)+"/sessions/"+currentSession(t, e, third), nil))
	// Passkeys (TestPasskeysNative walks them with an authenticator).
	e.must(200, e.do("GET", "/api/v1/me/passkeys", "Bearer "+dt.AccessToken, nil))
	e.must(200, e.do("POST", "/api/v1/me/passkeys/options", "Bearer "+dt.AccessToken, nil))
	e.must(400, e.do("POST", "/api/v1/me/passkeys", "Bearer "+dt.AccessToken, map[string]any{"credential": map[string]any{}}))
	e.must(404, e.do("DELETE", "/api/v1/me/passkeys/nope", "Bearer "+dt.AccessToken, nil))
	e.must(200, e.do("POST", "/api/v1/auth/passkey/options", "", map[string]any{"client_id": pub.ID}))
	e.must(400, e.do("POST", "/api/v1/auth/passkey", "", map[string]any{"client_id": pub.ID, "credential": map[string]any{}}))
	e.must(204, e.do("POST", "/api/v1/me/sign-out", "Bearer "+dt.AccessToken, nil))
	e.must(401, e.do("POST", "/api/v1/auth/refresh", "", map[string]any{
		"client_id": conf.ID, "client_secret": regen.ClientSecret, "refresh_token": dt.RefreshToken,
	}))

	// ---- second factors (mfa_handlers.go; internal/auth has the flows) ----
	{
		const gina = "gina@example.test"
		totpAt := func(secret string, steps int) string {
			c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		signIn := func(v any) {
			e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": pub.ID, "username": gina, "password": goodPassword})).json(t, v)
		}
		type challenge struct {
			ChallengeName string `json:"challenge_name"`
			Session       string
		}
		e.signUpConfirmed(pool.ID, pub.ID, gina)
		var gt tokens
		signIn(&gt)
		gb := "Bearer " + gt.AccessToken
		var setupV struct {
			Secret string
			URI    string `json:"otpauth_uri"`
		}
		e.must(200, e.do("POST", "/api/v1/me/mfa/totp", gb, nil)).json(t, &setupV)
		e.must(204, e.do("POST", "/api/v1/me/mfa/totp/verify", gb, map[string]any{"code": totpAt(setupV.Secret, 0), "device_name": "phone"}))
		e.must(204, e.do("PUT", "/api/v1/me/mfa/preference", gb, map[string]any{"software_token": map[string]bool{"enabled": true, "preferred": true}}))
		var mv struct {
			EnabledFactors []string `json:"enabled_factors"`
			Factors        []struct{ ID string }
		}
		e.must(200, e.do("GET", "/api/v1/me/mfa", gb, nil)).json(t, &mv)
		if len(mv.EnabledFactors) != 1 || len(mv.Factors) != 1 || !strings.HasPrefix(setupV.URI, "otpauth://totp/") {
			t.Fatalf("my mfa %+v %+v", mv, setupV)
		}
		var rc struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		e.must(200, e.do("POST", "/api/v1/me/mfa/recovery-codes", gb, nil)).json(t, &rc)
		if len(rc.RecoveryCodes) != 10 {
			t.Fatalf("recovery codes %+v", rc)
		}
		e.must(200, e.admin("PUT", P+"/mfa", map[string]any{"configuration": "OPTIONAL"}))
		e.must(200, e.admin("GET", P+"/mfa", nil))
		var ch challenge
		signIn(&ch)
		if ch.ChallengeName != "SOFTWARE_TOKEN_MFA" {
			t.Fatalf("sign-in with a factor: %+v", ch)
		}
		var gt2 tokens
		e.must(200, e.do("POST", "/api/v1/auth/challenge", "", map[string]any{"client_id": pub.ID, "challenge_name": ch.ChallengeName,
			"session": ch.Session, "responses": map[string]string{"SOFTWARE_TOKEN_MFA_CODE": totpAt(setupV.Secret, 1)}})).json(t, &gt2)
		G := P + "/users/" + url.PathEscape(gina)
		e.must(200, e.admin("GET", G+"/mfa", nil))
		e.must(204, e.admin("PUT", G+"/mfa/preference", map[string]any{"software_token": map[string]bool{"enabled": true}}))
		e.must(204, e.do("DELETE", "/api/v1/me/mfa/factors/"+mv.Factors[0].ID, "Bearer "+gt2.AccessToken, nil))
		e.must(204, e.admin("DELETE", G+"/mfa", nil))

		// Remembered devices (made by the Cognito surface's ConfirmDevice;
		// here written to the store): listed, then forgotten.
		gu, err := e.db.GetUserByUsername(context.Background(), pool.ID, gina)
		if err != nil {
			t.Fatal(err)
		}
		dk := "us-east-1_4d2f1c1e-0b7a-4c55-9a3e-1f0e4b7c9d21"
		now := time.Now()
		if err := e.db.InsertDevice(context.Background(), &identity.Device{PoolID: pool.ID, Key: dk, UserSub: gu.Sub, GroupKey: "-g", Name: "laptop",
			Status: identity.DeviceRemembered, Salt: "ab", Verifier: "cd", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		var devs struct {
			Items []struct {
				DeviceKey string `json:"device_key"`
				Status    string
			}
		}
		e.must(200, e.admin("GET", G+"/devices?limit=100", nil)).json(t, &devs)
		if len(devs.Items) != 1 || devs.Items[0].DeviceKey != dk || devs.Items[0].Status != "remembered" {
			t.Fatalf("devices %+v", devs)
		}
		if p := e.must(404, e.admin("DELETE", G+"/devices/us-east-1_00000000-0000-4000-8000-000000000000", nil)).problem(t); p.Code != "resource_not_found" {
			t.Fatalf("unknown device: %+v", p)
		}
		e.must(400, e.admin("DELETE", G+"/devices/not-a-key", nil))
		e.must(204, e.admin("DELETE", G+"/devices/"+dk, nil))
		e.must(200, e.admin("GET", G+"/devices", nil)).json(t, &devs)
		if len(devs.Items) != 0 {
			t.Fatalf("devices after forgetting: %+v", devs)
		}
		// The user's own (TestDevicesNative has the sign-ins and attacks).
		dk2 := "us-east-1_6a1d0f3b-2c4e-4f1a-8b7c-0d9e8f7a6b5c"
		if err := e.db.InsertDevice(context.Background(), &identity.Device{PoolID: pool.ID, Key: dk2, UserSub: gu.Sub, GroupKey: "-g", Name: "phone",
			Status: identity.DeviceNotRemembered, Salt: "ab", Verifier: "cd", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		e.must(200, e.do("GET", "/api/v1/me/devices", "Bearer "+gt2.AccessToken, nil)).json(t, &devs)
		if len(devs.Items) != 1 || devs.Items[0].DeviceKey != dk2 || devs.Items[0].Status != "not_remembered" {
			t.Fatalf("my devices %+v", devs)
		}
		e.must(204, e.do("DELETE", "/api/v1/me/devices/"+dk2, "Bearer "+gt2.AccessToken, nil))

		// MFA ON: the enrolment during the sign-in, with sessions only.
		e.must(200, e.admin("PUT", P+"/mfa", map[string]any{"configuration": "ON"}))
		signIn(&ch)
		if ch.ChallengeName != "MFA_SETUP" {
			t.Fatalf("sign-in without a factor, MFA ON: %+v", ch)
		}
		var su struct{ Secret, Session string }
		e.must(200, e.do("POST", "/api/v1/auth/mfa/totp", "", map[string]any{"client_id": pub.ID, "session": ch.Session})).json(t, &su)
		var sv struct{ Session string }
		e.must(200, e.do("POST", "/api/v1/auth/mfa/totp/verify", "", map[string]any{"client_id": pub.ID, "session": su.Session,
			"code": totpAt(su.Secret, 0)})).json(t, &sv)
		e.must(200, e.do("POST", "/api/v1/auth/challenge", "", map[string]any{"client_id": pub.ID, "challenge_name": "MFA_SETUP",
			"session": sv.Session, "responses": map[string]string{}}))
		e.must(200, e.admin("PUT", P+"/companies/initech/require-mfa", map[string]any{"require_mfa": true}))
		e.must(200, e.admin("PUT", P+"/mfa", map[string]any{"configuration": "OFF"}))
	}

	// ---- outbox and audit ----
	var emails struct {
		Items []struct{ To, Subject, Status string }
	}
	e.must(200, e.admin("GET", P+"/emails?limit=5", nil)).json(t, &emails)
	if len(emails.Items) == 0 || len(emails.Items) > 5 {
		t.Fatalf("emails %+v", emails)
	}
	e.must(200, e.admin("GET", P+"/emails?status=queued", nil))
	e.must(400, e.admin("GET", P+"/emails?status=bogus", nil))

	// ---- jobs (jobs_handlers.go); no runner runs here ----
	var jl struct {
		Items []struct {
			ID      int64
			State   string
			Payload struct {
				EmailID int64 `json:"email_id"`
			}
		}
	}
	e.must(200, e.admin("GET", P+"/jobs?kind=email.send&state=pending", nil)).json(t, &jl)
	if len(jl.Items) < 2 {
		t.Fatalf("jobs %+v", jl)
	}
	jid, eid := strconv.FormatInt(jl.Items[0].ID, 10), strconv.FormatInt(jl.Items[0].Payload.EmailID, 10)
	J := P + "/jobs/" + jid
	e.must(200, e.admin("GET", J, nil))
	e.must(200, e.admin("GET", "/api/v1/jobs?limit=5", nil))
	e.must(200, e.admin("GET", "/api/v1/jobs/"+jid, nil))
	e.must(200, e.admin("POST", J+"/retry", nil))
	e.must(200, e.admin("POST", "/api/v1/jobs/"+jid+"/retry", nil))
	e.must(409, e.admin("POST", P+"/emails/"+eid+"/retry", nil))
	e.must(204, e.admin("POST", P+"/emails/"+eid+"/discard", nil))
	e.must(409, e.admin("POST", J+"/discard", nil))
	e.must(200, e.admin("POST", "/api/v1/jobs/"+strconv.FormatInt(jl.Items[1].ID, 10)+"/discard", nil))
	e.must(200, e.admin("POST", P+"/emails/retry-dead", nil))
	var audit struct {
		Items []struct{ Actor, Action, Subject string }
	}
	e.must(200, e.admin("GET", P+"/audit?action="+url.QueryEscape("admin.user_disable"), nil)).json(t, &audit)
	if len(audit.Items) != 1 || !strings.HasPrefix(audit.Items[0].Actor, "admin-key:") {
		t.Fatalf("audit %+v", audit)
	}

	// ---- public documents ----
	r = e.must(200, e.do("GET", "/"+pool.ID+"/.well-known/jwks.json", "", nil))
	var jwks struct {
		Keys []map[string]any
	}
	r.json(t, &jwks)
	if len(jwks.Keys) == 0 || r.header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("jwks %s %v", r.body, r.header)
	}
	for _, k := range jwks.Keys {
		if _, private := k["d"]; private {
			t.Fatal("JWKS publishes a private key")
		}
	}
	var disco map[string]any
	r = e.must(200, e.do("GET", "/"+pool.ID+"/.well-known/openid-configuration", "", nil))
	r.json(t, &disco)
	if disco["issuer"] != e.svc.Issuer(mustPool(t, e, pool.ID)) || disco["jwks_uri"] != baseURL+"/"+pool.ID+"/.well-known/jwks.json" {
		t.Fatalf("discovery %v", disco)
	}
	// The OIDC endpoints (internal/oidc, mounted beside the API) live
	// under the issuer.
	iss := disco["issuer"].(string)
	if disco["authorization_endpoint"] != iss+"/oauth2/authorize" || disco["token_endpoint"] != iss+"/oauth2/token" ||
		disco["userinfo_endpoint"] != iss+"/oauth2/userInfo" || disco["revocation_endpoint"] != iss+"/oauth2/revoke" ||
		disco["end_session_endpoint"] != iss+"/logout" {
		t.Fatalf("discovery endpoints %v", disco)
	}
	e.must(404, e.do("GET", "/us-east-1_nope12345/.well-known/jwks.json", "", nil))
	e.must(200, e.do("GET", "/api/v1/openapi.json", "", nil))
	e.must(200, e.do("GET", "/api/v1/docs", "", nil))
	e.must(200, e.do("GET", "/api/v1/docs/swagger-ui.css", "", nil))

	// ---- deletions ----
	e.must(204, e.admin("DELETE", P+"/groups/acme", nil))
	e.must(204, e.admin("DELETE", U, nil))
	e.must(204, e.admin("DELETE", C, nil))
	e.must(404, e.admin("GET", C, nil))
	e.must(204, e.admin("DELETE", P, nil))
	e.must(404, e.admin("GET", P, nil))

	// ---- every documented operation was exercised ----
	b, err := api.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var missed []string
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for path, item := range doc.Paths {
		for method := range item {
			if method == "parameters" {
				continue
			}
			if k := strings.ToUpper(method) + " " + path; !rec.seen[k] {
				missed = append(missed, k)
			}
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Fatalf("routes never answered below 500:\n%s", strings.Join(missed, "\n"))
	}
}
