package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/srp"
)

// srpTimestamp formats t as amazon-cognito-identity-js does (day not padded).
func srpTimestamp(t time.Time) string { return t.UTC().Format("Mon Jan 2 15:04:05 UTC 2006") }

// srpSetup is userSetup with a client that also allows USER_SRP_AUTH.
func srpSetup(t testing.TB, poolIn func(*CreatePoolInput)) *userEnv {
	return userSetup(t, poolIn, func(in *CreateClientInput) {
		in.AuthFlows = append(in.AuthFlows, identity.FlowUserSRP)
	})
}

// srpRound1 runs InitiateAuth USER_SRP_AUTH as a JS client would.
func (e *userEnv) srpRound1(client Client, username string) (*srp.Client, *Challenge, error) {
	c, err := srp.NewClient(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: client, Flow: AuthUserSRP, Username: username,
		Params: map[string]string{"USERNAME": username, "SRP_A": c.PublicA().Text(16)}})
	if err != nil {
		return nil, nil, err
	}
	if r.Challenge == nil || r.Challenge.Name != ChallengePasswordVerifier {
		e.t.Fatalf("round 1: %+v, want PASSWORD_VERIFIER", r)
	}
	return c, r.Challenge, nil
}

// srpProof computes the round-two responses for password.
func (e *userEnv) srpProof(c *srp.Client, ch *Challenge, password string, ts string) map[string]string {
	e.t.Helper()
	salt, ok1 := new(big.Int).SetString(ch.Parameters["SALT"], 16)
	B, ok2 := new(big.Int).SetString(ch.Parameters["SRP_B"], 16)
	if !ok1 || !ok2 {
		e.t.Fatalf("bad SALT/SRP_B in %v", ch.Parameters)
	}
	userID := ch.Parameters["USER_ID_FOR_SRP"]
	key, err := c.Key(srp.PoolName(e.pool.ID), userID, password, salt, B)
	if err != nil {
		e.t.Fatal(err)
	}
	block, err := base64.StdEncoding.DecodeString(ch.Parameters["SECRET_BLOCK"])
	if err != nil {
		e.t.Fatal(err)
	}
	sig := srp.Signature(key, srp.PoolName(e.pool.ID), userID, block, ts)
	return map[string]string{
		"USERNAME":                    userID,
		"PASSWORD_CLAIM_SECRET_BLOCK": ch.Parameters["SECRET_BLOCK"],
		"PASSWORD_CLAIM_SIGNATURE":    base64.StdEncoding.EncodeToString(sig),
		"TIMESTAMP":                   ts,
	}
}

func (e *userEnv) srpRound2(client Client, responses map[string]string) (*AuthResult, error) {
	return e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: client, ChallengeName: ChallengePasswordVerifier, Responses: responses})
}

// srpSignIn runs both rounds.
func (e *userEnv) srpSignIn(username, password string) (*AuthResult, error) {
	c, ch, err := e.srpRound1(e.c(), username)
	if err != nil {
		return nil, err
	}
	return e.srpRound2(e.c(), e.srpProof(c, ch, password, srpTimestamp(e.now())))
}

func (e *userEnv) mustSRP(username, password string) *Tokens {
	e.t.Helper()
	r, err := e.srpSignIn(username, password)
	if err != nil {
		e.t.Fatalf("SRP sign-in %s: %v", username, err)
	}
	if r.Tokens == nil {
		e.t.Fatalf("SRP sign-in %s: %+v, want tokens", username, r.Challenge)
	}
	return r.Tokens
}

func TestSRPSignIn(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	u := e.confirmedUser("ann@example.com")
	if u.SRPSalt == "" || u.SRPVerifier == "" {
		t.Fatalf("sign-up stored no SRP verifier: %+v", u)
	}
	c, ch, err := e.srpRound1(e.c(), "Ann@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	p := ch.Parameters
	if p["USER_ID_FOR_SRP"] != u.Sub || p["USERNAME"] != u.Sub {
		t.Fatalf("USER_ID_FOR_SRP = %q, want the sub %s in an email pool", p["USER_ID_FOR_SRP"], u.Sub)
	}
	if p["SALT"] != u.SRPSalt || p["SRP_B"] == "" || p["SECRET_BLOCK"] == "" {
		t.Fatalf("challenge parameters %v", p)
	}
	if strings.Contains(p["SECRET_BLOCK"], u.Sub) {
		t.Fatal("SECRET_BLOCK is readable")
	}
	r, err := e.srpRound2(e.c(), e.srpProof(c, ch, goodPW, srpTimestamp(e.now())))
	if err != nil {
		t.Fatal(err)
	}
	if r.Tokens == nil || r.Tokens.RefreshToken == "" {
		t.Fatalf("result %+v", r)
	}
	claims := claimsOf(t, r.Tokens.IDToken)
	if claims["cognito:username"] != u.Sub || claims["email"] != "ann@example.com" {
		t.Fatalf("ID token claims %v", claims)
	}
	found := false
	evs := e.auditActions()
	if hasAction(evs, "user.sign_in") {
		found = true
	}
	if !found {
		t.Fatalf("audit %v has no user.sign_in", evs)
	}
	// A Python client pads the day: accepted too.
	c, ch, _ = e.srpRound1(e.c(), "ann@example.com")
	if _, err := e.srpRound2(e.c(), e.srpProof(c, ch, goodPW, e.now().Format("Mon Jan 02 15:04:05 UTC 2006"))); err != nil {
		t.Fatalf("zero-padded day: %v", err)
	}
}

func TestSRPUsernamePool(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias })
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "Bob",
		Attributes: map[string]string{"email": "bob@example.com", "email_verified": "true"}, TemporaryPassword: goodPW, MessageAction: "SUPPRESS"}); err != nil {
		t.Fatal(err)
	}
	// A temporary password: SRP, then NEW_PASSWORD_REQUIRED, then tokens.
	c, ch, err := e.srpRound1(e.c(), "bob@example.com") // the verified email alias
	if err != nil {
		t.Fatal(err)
	}
	if ch.Parameters["USER_ID_FOR_SRP"] != "bob" {
		t.Fatalf("USER_ID_FOR_SRP = %q, want the username", ch.Parameters["USER_ID_FOR_SRP"])
	}
	r, err := e.srpRound2(e.c(), e.srpProof(c, ch, goodPW, srpTimestamp(e.now())))
	if err != nil {
		t.Fatal(err)
	}
	if r.Challenge == nil || r.Challenge.Name != ChallengeNewPasswordRequired {
		t.Fatalf("after SRP: %+v, want NEW_PASSWORD_REQUIRED", r)
	}
	r, err = e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengeNewPasswordRequired,
		Session: r.Challenge.Session, Responses: map[string]string{"USERNAME": "bob", "NEW_PASSWORD": goodPW2}})
	if err != nil || r.Tokens == nil {
		t.Fatalf("NEW_PASSWORD_REQUIRED: %+v %v", r, err)
	}
	// The new password's verifier was stored by the challenge.
	e.mustSRP("bob", goodPW2)
	if _, err := e.srpSignIn("bob", goodPW); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("old password: %v", err)
	}
}

// TestSRPVerifierFollowsPassword: every way of setting a password leaves a
// verifier for that password.
func TestSRPVerifierFollowsPassword(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	const email = "cat@example.com"
	e.confirmedUser(email)
	e.mustSRP(email, goodPW)

	// ChangePassword.
	toks := e.mustSRP(email, goodPW)
	if err := e.s.ChangePassword(e.ctx, toks.AccessToken, goodPW, goodPW2); err != nil {
		t.Fatal(err)
	}
	e.mustSRP(email, goodPW2)

	// AdminSetUserPassword, permanent.
	const pw3 = "third-long-enough-passphrase-3"
	if err := e.s.AdminSetUserPassword(e.ctx, e.pool.ID, email, pw3, true); err != nil {
		t.Fatal(err)
	}
	e.mustSRP(email, pw3)

	// ForgotPassword + ConfirmForgotPassword.
	if _, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: email}); err != nil {
		t.Fatal(err)
	}
	const pw4 = "fourth-long-enough-passphrase-4"
	if err := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: email,
		Code: e.lastCode(email, TemplateForgotPassword), NewPassword: pw4}); err != nil {
		t.Fatal(err)
	}
	e.mustSRP(email, pw4)
	if _, err := e.srpSignIn(email, pw3); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("previous password still works: %v", err)
	}
}

func TestSRPWrongPasswordIsThrottled(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, func(in *CreatePoolInput) { in.MaxFailedAttempts = 3; in.LockoutDuration = time.Minute })
	const email = "dan@example.com"
	e.confirmedUser(email)
	for i := 1; i <= 3; i++ {
		_, err := e.srpSignIn(email, wrongPW)
		wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
		if n := e.getUser(email).FailedAttempts; n != i {
			t.Fatalf("after %d wrong proofs FailedAttempts = %d", i, n)
		}
	}
	// Locked: even the right password is refused, without being checked.
	_, err := e.srpSignIn(email, goodPW)
	wantErr(t, err, identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
	// The password flow shares the counter.
	_, err = e.signIn(email, goodPW)
	wantErr(t, err, identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
	e.advance(2 * time.Minute)
	e.mustSRP(email, goodPW)
	if n := e.getUser(email).FailedAttempts; n != 0 {
		t.Fatalf("FailedAttempts after success = %d", n)
	}
}

func TestSRPStatusChecksAfterProof(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	e.signUp("eve@example.com", nil) // unconfirmed
	_, err := e.srpSignIn("eve@example.com", wrongPW)
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	_, err = e.srpSignIn("eve@example.com", goodPW)
	wantErr(t, err, identity.CodeUserNotConfirmed, "User is not confirmed.")

	e.confirmedUser("fay@example.com")
	e.setUser("fay@example.com", func(u *identity.User) { u.Enabled = false })
	_, err = e.srpSignIn("fay@example.com", goodPW)
	wantErr(t, err, identity.CodeUserDisabled, "User is disabled.")
}

func TestSRPRoundTwoChecks(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	const email = "gus@example.com"
	e.confirmedUser(email)
	c, ch, err := e.srpRound1(e.c(), email)
	if err != nil {
		t.Fatal(err)
	}
	now := e.now()
	good := e.srpProof(c, ch, goodPW, srpTimestamp(now))
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "\x00delete" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	blk := good["PASSWORD_CLAIM_SECRET_BLOCK"]
	raw, _ := base64.StdEncoding.DecodeString(blk)
	raw[len(raw)/2] ^= 1
	tampered := base64.StdEncoding.EncodeToString(raw)

	// A second client of the same pool.
	other, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: e.pool.ID, Name: "other", AuthFlows: []string{identity.FlowUserSRP}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		client Client
		resp   map[string]string
		code   identity.Code
		msg    string
	}{
		{"no block", e.c(), with("PASSWORD_CLAIM_SECRET_BLOCK", "\x00delete"), identity.CodeInvalidParameter, "Missing required parameter PASSWORD_CLAIM_SECRET_BLOCK"},
		{"no signature", e.c(), with("PASSWORD_CLAIM_SIGNATURE", "\x00delete"), identity.CodeInvalidParameter, "Missing required parameter PASSWORD_CLAIM_SIGNATURE"},
		{"no timestamp", e.c(), with("TIMESTAMP", "\x00delete"), identity.CodeInvalidParameter, "Missing required parameter TIMESTAMP"},
		{"tampered block", e.c(), with("PASSWORD_CLAIM_SECRET_BLOCK", tampered), identity.CodeNotAuthorized, errInvalidSRPBlock.Message},
		{"not base64 block", e.c(), with("PASSWORD_CLAIM_SECRET_BLOCK", "!!"), identity.CodeNotAuthorized, errInvalidSRPBlock.Message},
		{"huge block", e.c(), with("PASSWORD_CLAIM_SECRET_BLOCK", strings.Repeat("A", 5000)), identity.CodeNotAuthorized, errInvalidSRPBlock.Message},
		{"other client", Client{ID: other.Client.ID}, good, identity.CodeNotAuthorized, errInvalidSRPBlock.Message},
		{"bad timestamp", e.c(), with("TIMESTAMP", "2026-11-22T03:00:00Z"), identity.CodeInvalidParameter, ""},
		{"old timestamp", e.c(), with("TIMESTAMP", srpTimestamp(now.Add(-6*time.Minute))), identity.CodeNotAuthorized, ""},
		{"future timestamp", e.c(), with("TIMESTAMP", srpTimestamp(now.Add(6*time.Minute))), identity.CodeNotAuthorized, ""},
		// The signature covers TIMESTAMP exactly as sent.
		{"other timestamp", e.c(), with("TIMESTAMP", srpTimestamp(now.Add(time.Second))), identity.CodeNotAuthorized, "Incorrect username or password."},
		{"bad signature", e.c(), with("PASSWORD_CLAIM_SIGNATURE", base64.StdEncoding.EncodeToString(make([]byte, 32))), identity.CodeNotAuthorized, "Incorrect username or password."},
		{"signature not base64", e.c(), with("PASSWORD_CLAIM_SIGNATURE", "%%%"), identity.CodeInvalidParameter, ""},
		{"other user named", e.c(), with("USERNAME", "nobody@example.com"), identity.CodeNotAuthorized, errInvalidSRPBlock.Message},
	} {
		_, err := e.srpRound2(tc.client, tc.resp)
		if identity.ErrorCode(err) != tc.code || (tc.msg != "" && identity.ErrorMessage(err) != tc.msg) {
			t.Errorf("%s: error %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
	// The untouched answer still works (failures above did not lock: 3 < 5),
	// and the email given as USERNAME is accepted as the same user.
	if r, err := e.srpRound2(e.c(), with("USERNAME", email)); err != nil || r.Tokens == nil {
		t.Fatalf("good answer: %+v %v", r, err)
	}

	// Expired block.
	c, ch, _ = e.srpRound1(e.c(), email)
	e.advance(srpBlockTTL + time.Second)
	_, err = e.srpRound2(e.c(), e.srpProof(c, ch, goodPW, srpTimestamp(e.now())))
	wantErr(t, err, identity.CodeNotAuthorized, errInvalidSRPBlock.Message)

	// The password changed between the rounds.
	c, ch, _ = e.srpRound1(e.c(), email)
	if err := e.s.AdminSetUserPassword(e.ctx, e.pool.ID, email, goodPW2, true); err != nil {
		t.Fatal(err)
	}
	_, err = e.srpRound2(e.c(), e.srpProof(c, ch, goodPW, srpTimestamp(e.now())))
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
}

func TestSRPBadA(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	e.confirmedUser("hal@example.com")
	twoN := new(big.Int).Lsh(srp.N, 1)
	for name, a := range map[string]string{
		"zero":     "0",
		"N":        srp.N.Text(16),
		"2N":       twoN.Text(16),
		"not hex":  "xyz",
		"negative": "-5",
		"too long": strings.Repeat("1", 3000),
	} {
		_, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthUserSRP, Username: "hal@example.com",
			Params: map[string]string{"SRP_A": a}})
		if identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Errorf("SRP_A %s: %v, want invalid_parameter", name, err)
		}
	}
}

func TestSRPUnknownAndImportedUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Without PreventUserExistenceErrors: plain errors.
	e := srpSetup(t, nil)
	_, _, err := e.srpRound1(e.c(), "nobody@example.com")
	wantErr(t, err, identity.CodeUserNotFound, "User does not exist.")
	if err := importOne(ctx, e.s, e.pool.ID, ImportedUser{Username: "imp@example.com", Email: "imp@example.com",
		EmailVerified: true, Status: "CONFIRMED", Enabled: true, PasswordHash: e.getHash(goodPW)}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.srpRound1(e.c(), "imp@example.com")
	if identity.ErrorCode(err) != identity.CodeNotAuthorized || !strings.Contains(identity.ErrorMessage(err), "USER_PASSWORD_AUTH") {
		t.Fatalf("imported user: %v", err)
	}
	// The password flow still works, and a new password brings SRP.
	toks := e.mustSignIn("imp@example.com", goodPW)
	if err := e.s.ChangePassword(ctx, toks.AccessToken, goodPW, goodPW2); err != nil {
		t.Fatal(err)
	}
	e.mustSRP("imp@example.com", goodPW2)

	// With PreventUserExistenceErrors: a challenge like any other, with a
	// salt stable across calls, and round two fails like a wrong password.
	e2 := srpSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true })
	e2.confirmedUser("real@example.com")
	c1, ch1, err := e2.srpRound1(e2.c(), "ghost@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_, ch2, _ := e2.srpRound1(e2.c(), "Ghost@example.com")
	_, chReal, _ := e2.srpRound1(e2.c(), "real@example.com")
	if ch1.Parameters["SALT"] != ch2.Parameters["SALT"] || ch1.Parameters["USER_ID_FOR_SRP"] != ch2.Parameters["USER_ID_FOR_SRP"] {
		t.Fatal("fake challenge changes between calls")
	}
	for _, k := range []string{"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"} {
		if ch1.Parameters[k] == "" || len(ch1.Parameters) != len(chReal.Parameters) {
			t.Fatalf("fake challenge lacks %s: %v", k, ch1.Parameters)
		}
	}
	_, err = e2.srpRound2(e2.c(), e2.srpProof(c1, ch1, goodPW, srpTimestamp(e2.now())))
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
}

// getHash hashes pw with the service's hasher (for imports).
func (e *userEnv) getHash(pw string) string {
	e.t.Helper()
	h, err := e.hasher.Hash(e.ctx, pw)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func TestSRPDisabledPool(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	p := *e.pool
	p.Settings.SRP.Disabled = true
	if _, err := e.s.UpdatePool(e.ctx, &p); err != nil {
		t.Fatal(err)
	}
	u := e.confirmedUser("ida@example.com")
	if u.SRPSalt != "" || u.SRPVerifier != "" {
		t.Fatalf("verifier stored with SRP off: %q %q", u.SRPSalt, u.SRPVerifier)
	}
	_, _, err := e.srpRound1(e.c(), "ida@example.com")
	wantErr(t, err, identity.CodeInvalidUserPoolConfig, errSRPDisabled.Message)
	e.mustSignIn("ida@example.com", goodPW)
}
