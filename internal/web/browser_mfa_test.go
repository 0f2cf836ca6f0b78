package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// TestBrowserMFA: in a pool with MFA ON, a person signs in, reads the key
// off the enrolment page (the QR code is for phones), enters the app's
// code and is signed in; later, in another browser, they use a recovery
// code instead of the app. Screenshots mfa-*.png.
func TestBrowserMFA(t *testing.T) {
	t.Parallel()
	c := newChrome(t)
	s := testenv.New(t, testenv.Options{Web: web.Options{RateBurst: 1000},
		Pool: &auth.CreatePoolInput{Name: "MFA Demo", UsernameMode: identity.UsernameEmail,
			MFA: identity.MFASettings{Configuration: identity.MFAOn}},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "ann@example.com"}}})
	signIn := func(tb *tab) {
		tb.open(s.Page("login?client_id=" + s.Client(0).ID))
		tb.typeInto("username", "ann@example.com")
		tb.typeInto("password", testenv.Password)
		tb.submit("/login")
	}
	ann := c.person(true)
	signIn(ann)
	ann.see("Scan the QR code")
	secret := ann.eval(`document.getElementById("totp-secret").textContent`)
	if n := ann.eval(`String(document.querySelectorAll("figure.qr svg path").length)`); n != "1" {
		t.Fatalf("QR code paths: %s", n)
	}
	ann.shot("mfa-01-enrol-authenticator-app")
	code, err := totp.GenerateCode(secret, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ann.typeInto("code", code)
	ann.submit("/account")
	ann.see("ann@example.com")
	ann.shot("mfa-02-signed-in")

	// Recovery codes, made with a sign-in through the service (next code).
	ctx := context.Background()
	s.Clock.Advance(30 * time.Second)
	r, err := s.Svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: s.Client(0).ID}, Flow: auth.AuthUserPassword,
		Username: "ann@example.com", Password: testenv.Password})
	if err != nil || r.Challenge == nil {
		t.Fatalf("sign-in: %+v %v", r, err)
	}
	next, _ := totp.GenerateCode(secret, s.Clock.Now())
	r, err = s.Svc.RespondToAuthChallenge(ctx, auth.RespondInput{Client: auth.Client{ID: s.Client(0).ID}, ChallengeName: r.Challenge.Name,
		Session: r.Challenge.Session, Responses: map[string]string{"SOFTWARE_TOKEN_MFA_CODE": next}})
	if err != nil || r.Tokens == nil {
		t.Fatalf("TOTP: %+v %v", r, err)
	}
	codes, err := s.Svc.GenerateRecoveryCodes(ctx, r.Tokens.AccessToken)
	if err != nil {
		t.Fatal(err)
	}

	phone := c.person(false)
	signIn(phone)
	phone.see("authenticator app")
	phone.shot("mfa-03-code")
	phone.do(chromedp.Click(chromedp.CSS("details summary")))
	phone.typeInto("recovery_code", codes[0])
	phone.shot("mfa-04-recovery-code")
	phone.eval(`(function(){ window.__ghOld = true; return "" })()`)
	phone.do(chromedp.Click(chromedp.CSS(`button[name=use]`)))
	phone.waitPath("/account")
	phone.see("ann@example.com")
}
