package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

type devicesBody struct {
	Items []struct {
		DeviceKey string `json:"device_key"`
		Name      string `json:"name"`
		Status    string `json:"status"`
		LastIP    string `json:"last_ip_used"`
	} `json:"items"`
}

// TestDevicesNative: a user lists their remembered devices and forgets
// one (GET and DELETE /api/v1/me/devices), which ends the sign-in issued
// to it — its access token refused, its refresh token too — while their
// other sign-ins and other users' devices stay. The attack: Bob, with his
// own token, names Pia's device key: 404 resource_not_found, and nothing
// changes; a malformed key is 400; no token is 401. The forget is audited
// as Pia's, via "api".
func TestDevicesNative(t *testing.T) {
	t.Parallel()
	e := setupOptions(t, testenv.Options{
		Pool: &auth.CreatePoolInput{Name: "devices", UsernameMode: identity.UsernameEmail,
			Devices: identity.DeviceSettings{Tracked: true}},
		Clients: []auth.CreateClientInput{{Name: "app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "pia@example.org"}, {Username: "bob@example.org"}}})
	s, ctx := e.stack, context.Background()
	cid := s.Client(0).ID
	piaKey, piaDevice := s.RememberDevice(cid, "pia@example.org", "", "Pia's phone")
	bobKey, bobDevice := s.RememberDevice(cid, "bob@example.org", "", "")
	pia := "Bearer " + s.SignIn(cid, "pia@example.org", "").AccessToken
	bob := "Bearer " + s.SignIn(cid, "bob@example.org", "").AccessToken

	var list devicesBody
	e.must(200, e.do("GET", "/api/v1/me/devices", pia, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].DeviceKey != piaKey || list.Items[0].Name != "Pia's phone" ||
		list.Items[0].Status != identity.DeviceRemembered || list.Items[0].LastIP != testenv.DeviceIP {
		t.Fatalf("pia's devices: %+v", list)
	}
	e.must(200, e.do("GET", "/api/v1/me/devices", bob, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].DeviceKey != bobKey {
		t.Fatalf("bob's devices: %+v", list)
	}
	if p := e.do("GET", "/api/v1/me/devices", "", nil).problem(t); p.Status != 401 {
		t.Fatalf("no token: %+v", p)
	}

	// A relying party's token ("openid email", no
	// aws.cognito.signin.user.admin) neither lists nor forgets.
	rp, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: s.Pool.ID, Name: "rp", CallbackURLs: []string{"https://rp.example/cb"},
		OAuthFlows: []string{identity.OAuthFlowCode}, OAuthScopes: []string{"openid", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	code, err := e.svc.CreateAuthorizationCode(ctx, auth.AuthorizationCodeInput{Pool: s.Pool, Client: rp.Client, Sub: s.Subs["pia@example.org"],
		AuthTime: time.Now(), RedirectURI: "https://rp.example/cb", Scope: "openid email"})
	if err != nil {
		t.Fatal(err)
	}
	rpToks, _, err := e.svc.RedeemAuthorizationCode(ctx, auth.RedeemCodeInput{Pool: s.Pool, Client: rp.Client, Code: code, RedirectURI: "https://rp.example/cb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"GET /api/v1/me/devices", "DELETE /api/v1/me/devices/" + piaKey} {
		method, path, _ := strings.Cut(m, " ")
		if p := e.do(method, path, "Bearer "+rpToks.AccessToken, nil).problem(t); p.Status != 403 || p.Code != "insufficient_scope" {
			t.Fatalf("%s with a relying party's token: %+v", m, p)
		}
	}

	// Bob names Pia's key: not found, and Pia's device and its sign-in stay.
	if p := e.do("DELETE", "/api/v1/me/devices/"+piaKey, bob, nil).problem(t); p.Status != 404 || p.Code != "resource_not_found" {
		t.Fatalf("bob forgets pia's device: %+v", p)
	}
	if p := e.do("DELETE", "/api/v1/me/devices/not-a-key", pia, nil).problem(t); p.Status != 400 || p.Code != "invalid_parameter" {
		t.Fatalf("a malformed key: %+v", p)
	}
	if p := e.do("DELETE", "/api/v1/me/devices/us-east-1_00000000-0000-4000-8000-000000000000", pia, nil).problem(t); p.Status != 404 {
		t.Fatalf("an unknown key: %+v", p)
	}
	e.must(200, e.do("GET", "/api/v1/me/devices", "Bearer "+piaDevice.AccessToken, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].DeviceKey != piaKey {
		t.Fatalf("pia's devices after bob's attempt: %+v", list)
	}

	// Pia forgets her phone: the phone's sign-in ends (access and refresh
	// tokens), her other sign-in and Bob's device stay.
	e.must(204, e.do("DELETE", "/api/v1/me/devices/"+piaKey, pia, nil))
	if p := e.do("GET", "/api/v1/me/devices", "Bearer "+piaDevice.AccessToken, nil).problem(t); p.Status != 401 {
		t.Fatalf("the forgotten device's access token: %+v", p)
	}
	if _, err := e.svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: cid}, Flow: auth.AuthRefreshToken,
		RefreshToken: piaDevice.RefreshToken}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the forgotten device's refresh token: %v", err)
	}
	e.must(200, e.do("GET", "/api/v1/me/devices", pia, nil)).json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("pia's devices after the forget: %+v", list)
	}
	if p := e.do("DELETE", "/api/v1/me/devices/"+piaKey, pia, nil).problem(t); p.Status != 404 {
		t.Fatalf("forgetting it again: %+v", p)
	}
	e.must(200, e.do("GET", "/api/v1/me/devices", "Bearer "+bobDevice.AccessToken, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].DeviceKey != bobKey {
		t.Fatalf("bob's devices after pia's forget: %+v", list)
	}

	evs, _, err := e.svc.Audit(ctx, auth.AuditQuery{PoolID: s.Pool.ID, Action: "user.device_forgotten"})
	if err != nil || len(evs) != 1 || evs[0].Actor != "user:"+s.Subs["pia@example.org"] || evs[0].Via != identity.ViaAPI ||
		evs[0].Subject != "user:"+s.Subs["pia@example.org"] || evs[0].Detail["device_key"] != piaKey {
		t.Fatalf("audit: %+v %v", evs, err)
	}
}
