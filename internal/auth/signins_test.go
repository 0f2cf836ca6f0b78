package auth

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestConsoleSessionsRoles: a company admin lists and ends the sessions of
// a plain member of their company only: a pool admin, a peer approver,
// another company's admin and a member of no company are forbidden, and
// nothing of theirs ends. The sign-in records its User-Agent and IP.
// security.md R2-R4
func TestConsoleSessionsRoles(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, _, adaCtx := rolesFixture(t, e)
		cl, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p.ID, Name: "app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		signIn := func(name string) *Tokens {
			res, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: cl.Client.ID}, Flow: AuthUserPassword,
				Username: name + "@example.org", Password: "correct horse battery staple 42",
				Meta: RequestMeta{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/128.0\x00\n"}})
			if err != nil || res.Tokens == nil {
				t.Fatalf("sign-in %s: %+v %v", name, res, err)
			}
			return res.Tokens
		}
		toks := map[string]*Tokens{}
		for _, name := range []string{"root", "abe", "gus", "ann", "out"} {
			toks[name] = signIn(name)
		}
		for _, target := range []string{"root", "abe", "gus", "out"} {
			if _, err := e.s.ConsoleUserSessions(adaCtx, p.ID, target+"@example.org"); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("ada lists %s's sessions: %v", target, err)
			}
			own, err := e.s.ListMySessions(e.ctx, toks[target].AccessToken)
			if err != nil || len(own) != 1 || !own[0].Current {
				t.Fatalf("%s's sessions: %+v %v", target, own, err)
			}
			if err := e.s.ConsoleRevokeSession(adaCtx, p.ID, target+"@example.org", own[0].ID); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("ada ends %s's session: %v", target, err)
			}
			if _, err := e.s.GetUser(e.ctx, toks[target].AccessToken); err != nil {
				t.Fatalf("%s's session ended by a refused call: %v", target, err)
			}
		}
		list, err := e.s.ConsoleUserSessions(adaCtx, p.ID, "ann@example.org")
		if err != nil || len(list) != 1 {
			t.Fatalf("ada lists ann's sessions: %+v %v", list, err)
		}
		if s := list[0]; s.IP != "192.0.2.7" || s.Device != "Firefox on macOS" || s.ClientName != "app" || s.UserAgent != "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/128.0" {
			t.Fatalf("ann's session: %+v", s)
		}
		// Another user's session id under ann's name is not found.
		other, _ := e.s.ListMySessions(e.ctx, toks["root"].AccessToken)
		if err := e.s.ConsoleRevokeSession(adaCtx, p.ID, "ann@example.org", other[0].ID); identity.ErrorCode(err) != identity.CodeResourceNotFound {
			t.Fatalf("root's session under ann's name: %v", err)
		}
		if err := e.s.ConsoleRevokeSession(adaCtx, p.ID, "ann@example.org", list[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.GetUser(e.ctx, toks["ann"].AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("ann's access token after the sign-out: %v", err)
		}
		if _, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: cl.Client.ID}, Flow: AuthRefreshToken,
			RefreshToken: toks["ann"].RefreshToken}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("ann's refresh token after the sign-out: %v", err)
		}
		if l, _ := e.s.ConsoleUserSessions(adaCtx, p.ID, "ann@example.org"); len(l) != 0 {
			t.Fatalf("ann's sessions after the sign-out: %+v", l)
		}
	})
}

func TestDeviceOf(t *testing.T) {
	for ua, want := range map[string]string{
		"": "",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                                  "Firefox on Linux",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge on Windows",
		"aws-sdk-go-v2/1.30.0 os/linux lang/go#1.23":                                                                                              "aws-sdk-go-v2",
		"curl/8.5.0": "curl",
	} {
		if got := DeviceOf(ua); got != want {
			t.Errorf("DeviceOf(%q) = %q, want %q", ua, got, want)
		}
	}
}
