package auth

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/srp"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// rememberDevice signs name in with USER_PASSWORD_AUTH through a
// tracked pool's client and confirms the device it was issued, with a
// verifier made as amazon-cognito-identity-js makes it. It returns the
// device key and the sign-in's tokens.
func rememberDevice(t *testing.T, e *adminEnv, clientID, name string) (string, *Tokens) {
	t.Helper()
	res, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: clientID}, Flow: AuthUserPassword,
		Username: name + "@example.org", Password: "correct horse battery staple 42", Meta: RequestMeta{IP: "198.51.100.9"}})
	if err != nil || res.Tokens == nil || res.NewDevice == nil {
		t.Fatalf("sign-in %s: %+v %v", name, res, err)
	}
	salt, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	salt.SetBit(salt, 127, 1)
	v := srp.Verifier(res.NewDevice.DeviceGroupKey, res.NewDevice.DeviceKey, "device secret of "+name, salt)
	if _, err := e.s.ConfirmDevice(e.ctx, ConfirmDeviceInput{AccessToken: res.Tokens.AccessToken, DeviceKey: res.NewDevice.DeviceKey,
		DeviceName: name + "'s laptop", HasVerifier: true, Meta: RequestMeta{IP: "198.51.100.9"},
		Salt:             base64.StdEncoding.EncodeToString(srp.PadBytes(salt)),
		PasswordVerifier: base64.StdEncoding.EncodeToString(srp.PadBytes(v))}); err != nil {
		t.Fatalf("ConfirmDevice %s: %v", name, err)
	}
	return res.NewDevice.DeviceKey, res.Tokens
}

// TestConsoleDevicesRoles: the console's remembered devices follow the
// sessions' rules (security.md R2-R4, N2). Company admin ada lists and
// forgets the devices of ann, a plain member of her company; she cannot
// list or forget those of a pool admin, a peer, another company's admin or
// a member of no company (refused calls change nothing); another user's
// key under ann's name is not found. Forgetting ends the device's
// sign-ins in the same transaction and is audited. The hosted account
// page's own calls (by sub) reach only the user's own devices.
func TestConsoleDevicesRoles(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us, adaCtx := rolesFixture(t, e, func(in *CreatePoolInput) { in.Devices = identity.DeviceSettings{Tracked: true} })
		cl, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p.ID, Name: "app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		keys, toks := map[string]string{}, map[string]*Tokens{}
		for _, name := range []string{"root", "abe", "gus", "ann", "out"} {
			keys[name], toks[name] = rememberDevice(t, e, cl.Client.ID, name)
		}
		for _, target := range []string{"root", "abe", "gus", "out"} {
			if _, err := e.s.ConsoleUserDevices(adaCtx, p.ID, target+"@example.org"); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("ada lists %s's devices: %v", target, err)
			}
			if err := e.s.ConsoleForgetDevice(adaCtx, p.ID, target+"@example.org", keys[target]); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("ada forgets %s's device: %v", target, err)
			}
			if _, err := e.s.GetDevice(e.ctx, toks[target].AccessToken, "", "", keys[target]); err != nil {
				t.Fatalf("%s's device after a refused forget: %v", target, err)
			}
			if _, err := e.s.GetUser(e.ctx, toks[target].AccessToken); err != nil {
				t.Fatalf("%s's sign-in ended by a refused call: %v", target, err)
			}
		}
		list, err := e.s.ConsoleUserDevices(adaCtx, p.ID, "ann@example.org")
		if err != nil || len(list) != 1 {
			t.Fatalf("ada lists ann's devices: %+v %v", list, err)
		}
		if d := list[0]; d.Key != keys["ann"] || d.Name != "ann's laptop" || d.Status != identity.DeviceRemembered || d.LastIP != "198.51.100.9" || d.CreatedAt.IsZero() {
			t.Fatalf("ann's device: %+v", d)
		}
		// Root's key under ann's name: not found, and root's device stays.
		if err := e.s.ConsoleForgetDevice(adaCtx, p.ID, "ann@example.org", keys["root"]); identity.ErrorCode(err) != identity.CodeResourceNotFound {
			t.Fatalf("root's device under ann's name: %v", err)
		}
		if err := e.s.ConsoleForgetDevice(adaCtx, p.ID, "ann@example.org", "not a key"); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("a malformed key: %v", err)
		}
		// The account page's calls: ann's own only.
		if err := e.s.ForgetUserDevice(e.ctx, p.ID, us["ann"].Sub, keys["root"]); identity.ErrorCode(err) != identity.CodeResourceNotFound {
			t.Fatalf("ann forgets root's device from her page: %v", err)
		}
		if own, err := e.s.ListUserDevices(e.ctx, p.ID, us["root"].Sub); err != nil || len(own) != 1 || own[0].Key != keys["root"] {
			t.Fatalf("root's devices: %+v %v", own, err)
		}
		if err := e.s.ConsoleForgetDevice(adaCtx, p.ID, "ann@example.org", keys["ann"]); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.GetUser(e.ctx, toks["ann"].AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("ann's access token after the forget: %v", err)
		}
		if _, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: cl.Client.ID}, Flow: AuthRefreshToken,
			RefreshToken: toks["ann"].RefreshToken}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("ann's refresh token after the forget: %v", err)
		}
		if l, err := e.s.ConsoleUserDevices(adaCtx, p.ID, "ann@example.org"); err != nil || len(l) != 0 {
			t.Fatalf("ann's devices after the forget: %+v %v", l, err)
		}
		evs, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{PoolID: p.ID, Action: "admin.user_device_forgotten"}, store.Page{Limit: 10})
		if err != nil || len(evs) != 1 || evs[0].Actor != "user:"+us["ada"].Sub || evs[0].Subject != "user:"+us["ann"].Sub ||
			evs[0].Detail["device_key"] != keys["ann"] || evs[0].Detail["sessions_ended"] != "1" {
			t.Fatalf("audit: %+v %v", evs, err)
		}
		// The user forgets her own from the account page.
		if err := e.s.ForgetUserDevice(e.ctx, p.ID, us["root"].Sub, keys["root"]); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.GetUser(e.ctx, toks["root"].AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("root's access token after forgetting from the page: %v", err)
		}
		if _, err := e.s.GetUser(e.ctx, toks["out"].AccessToken); err != nil {
			t.Fatalf("out's sign-in: %v", err)
		}
	})
}
