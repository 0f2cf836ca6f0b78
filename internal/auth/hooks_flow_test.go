package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// hookServer is a real HTTP hook receiver on loopback. It checks every
// request's signature with hooks.VerifySignature (refusing a bad one with
// 401, as a receiver should) and answers with the test's handler.
type hookServer struct {
	*httptest.Server
	secret string

	mu         sync.Mutex
	events     []map[string]any
	deliveries []string
	sigErrs    []error
	handle     func(ev map[string]any) (int, any)
}

func newHookServer(t *testing.T, secret string, handle func(ev map[string]any) (int, any)) *hookServer {
	t.Helper()
	hs := &hookServer{secret: secret, handle: handle}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := hooks.VerifySignature(hs.secret, r.Header, body, time.Now(), 0)
		hs.mu.Lock()
		hs.sigErrs = append(hs.sigErrs, err)
		hs.deliveries = append(hs.deliveries, r.Header.Get(hooks.DeliveryHeader))
		h := hs.handle
		hs.mu.Unlock()
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		hs.mu.Lock()
		hs.events = append(hs.events, ev)
		hs.mu.Unlock()
		status, out := h(ev)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		switch o := out.(type) {
		case nil:
		case string:
			io.WriteString(w, o)
		default:
			json.NewEncoder(w).Encode(o)
		}
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *hookServer) received() []map[string]any {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]map[string]any(nil), hs.events...)
}

func (hs *hookServer) setHandler(h func(ev map[string]any) (int, any)) {
	hs.mu.Lock()
	hs.handle = h
	hs.mu.Unlock()
}

// echo answers with the event and response set.
func echo(resp map[string]any) func(ev map[string]any) (int, any) {
	return func(ev map[string]any) (int, any) {
		ev["response"] = resp
		return 200, ev
	}
}

const hookSecret = "test-hook-secret-0123456789"

// putHook configures the env's pool hook for t pointing at hs.
func (e *userEnv) putHook(t identity.HookTrigger, hs *hookServer, timeoutMS int, version string) {
	e.t.Helper()
	if _, _, err := e.s.PutHook(e.ctx, e.pool.ID, t, HookInput{URL: hs.URL, Secret: hookSecret, TimeoutMS: timeoutMS, Version: version}); err != nil {
		e.t.Fatalf("PutHook(%s): %v", t, err)
	}
}

// nothingWritten checks that no user, email or job exists in the pool.
func (e *userEnv) nothingWritten(t *testing.T) {
	t.Helper()
	if n, _ := e.st.CountUsers(e.ctx, e.pool.ID); n != 0 {
		t.Fatalf("%d users written", n)
	}
	if es, _, _ := e.st.ListEmails(e.ctx, e.pool.ID, "", store.Page{Limit: 10}); len(es) != 0 {
		t.Fatalf("%d emails written", len(es))
	}
}

func TestHookPreSignUpAutoConfirm(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	hs := newHookServer(t, hookSecret, echo(map[string]any{"autoConfirmUser": true, "autoVerifyEmail": true, "autoVerifyPhone": false}))
	e.putHook(identity.TriggerPreSignUp, hs, 0, "")
	out := e.signUp("ann@example.com", map[string]string{"name": "Ann"})
	if !out.UserConfirmed || out.CodeDelivery != nil {
		t.Fatalf("SignUp = %+v, want confirmed without a code", out)
	}
	u := e.getUser("ann@example.com")
	if u.Status != identity.StatusConfirmed || !u.EmailVerified {
		t.Fatalf("user %s verified=%v", u.Status, u.EmailVerified)
	}
	if n := len(e.emailsTo("ann@example.com", TemplateSignUpCode)); n != 0 {
		t.Fatalf("%d code emails sent", n)
	}
	evs := hs.received()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	req := ev["request"].(map[string]any)
	attrs := req["userAttributes"].(map[string]any)
	cc := ev["callerContext"].(map[string]any)
	if ev["triggerSource"] != hooks.SourcePreSignUpSignUp || ev["userPoolId"] != e.pool.ID || ev["version"] != "1" ||
		attrs["email"] != "ann@example.com" || attrs["name"] != "Ann" || cc["clientId"] != e.client.ID || ev["userName"] != u.Sub {
		t.Fatalf("event %v", ev)
	}
	// Nobody set email_verified yet: Cognito's PreSignUp event has none.
	if v, ok := attrs["email_verified"]; ok {
		t.Fatalf("PreSignUp userAttributes carry email_verified %v", v)
	}
	e.mustSignIn("ann@example.com", goodPW)
}

func TestHookPreSignUpFailuresWriteNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		secret    string // the receiver's; "" = the configured one
		timeoutMS int
		handle    func(map[string]any) (int, any)
		code      identity.Code
		msg       string
	}{
		{"reject", "", 0, func(map[string]any) (int, any) {
			return 400, map[string]any{"errorType": "Error", "errorMessage": "Email is already taken"}
		}, identity.CodeUserLambdaValidation, "PreSignUp failed with error Email is already taken."},
		{"slow", "", 200, nil, identity.CodeUnexpectedLambda, "PreSignUp invocation failed due to error Timeout."},
		{"malformed", "", 0, func(map[string]any) (int, any) { return 200, `{"response": {"autoConfirmUser": "yes"` },
			identity.CodeInvalidLambdaResponse, "Unrecognizable lambda output from PreSignUp: the answer is not valid JSON."},
		{"unknown field", "", 0, func(map[string]any) (int, any) { return 200, `{"response": {"autoConfirm": true}}` },
			identity.CodeInvalidLambdaResponse, "Unrecognizable lambda output from PreSignUp: unknown response field \"autoConfirm\"."},
		{"server error", "", 0, func(map[string]any) (int, any) { return 502, "bad gateway" },
			identity.CodeUnexpectedLambda, "PreSignUp invocation failed due to error HTTP 502."},
		{"bad signature", "some-other-secret-value", 0, echo(map[string]any{"autoConfirmUser": true}),
			identity.CodeUnexpectedLambda, "PreSignUp invocation failed due to error HTTP 401."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := userSetup(t, nil, nil)
			secret := tc.secret
			if secret == "" {
				secret = hookSecret
			}
			handle := tc.handle
			release := make(chan struct{})
			if handle == nil { // slow: answers only when the test ends
				handle = func(map[string]any) (int, any) {
					<-release
					return 200, nil
				}
			}
			hs := newHookServer(t, secret, handle)
			t.Cleanup(func() { close(release) }) // runs before hs.Close
			e.putHook(identity.TriggerPreSignUp, hs, tc.timeoutMS, "")
			_, err := e.s.SignUp(e.ctx, SignUpInput{Client: e.c(), Username: "bob@example.com", Password: goodPW})
			wantErr(t, err, tc.code, tc.msg)
			e.nothingWritten(t)
			if tc.secret != "" {
				hs.mu.Lock()
				sigErrs := append([]error(nil), hs.sigErrs...)
				hs.mu.Unlock()
				if len(sigErrs) != 1 || !errors.Is(sigErrs[0], hooks.ErrBadSignature) {
					t.Fatalf("receiver signature check: %v", sigErrs)
				}
			}
			// AdminCreateUser runs the hook too (PreSignUp_AdminCreateUser).
			_, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "carl@example.com"})
			wantErr(t, err, tc.code, tc.msg)
			e.nothingWritten(t)
		})
	}
}

func TestHookPreTokenGenerationV1(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("dee@example.com")
	if _, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: e.pool.ID, Name: "readers"}); err != nil {
		t.Fatal(err)
	}
	hs := newHookServer(t, hookSecret, echo(map[string]any{"claimsOverrideDetails": map[string]any{
		"claimsToAddOrOverride": map[string]any{"custom:tier": "gold", "email_verified": "maybe"},
		"claimsToSuppress":      []string{"email"},
		"groupOverrideDetails":  map[string]any{"groupsToOverride": []string{"acme", "readers"}},
	}}))
	e.putHook(identity.TriggerPreTokenGeneration, hs, 0, "")
	toks := e.mustSignIn("dee@example.com", goodPW)
	id, access := claimsOf(t, toks.IDToken), claimsOf(t, toks.AccessToken)
	if id["custom:tier"] != "gold" || id["email_verified"] != "maybe" || id["email"] != nil {
		t.Fatalf("id claims %v", id)
	}
	for _, c := range []map[string]any{id, access} {
		if g, _ := json.Marshal(c["cognito:groups"]); string(g) != `["acme","readers"]` {
			t.Fatalf("groups %s in %v", g, c)
		}
	}
	if access["custom:tier"] != nil {
		t.Fatalf("V1 changed the access token: %v", access)
	}
	evs := hs.received()
	if evs[0]["triggerSource"] != hooks.SourceTokenAuthentication {
		t.Fatalf("source %v", evs[0]["triggerSource"])
	}
	if _, err := e.refresh(toks.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if evs = hs.received(); len(evs) != 2 || evs[1]["triggerSource"] != hooks.SourceTokenRefreshTokens {
		t.Fatalf("refresh events %v", evs)
	}
	// An invited user's first tokens come from the NEW_PASSWORD_REQUIRED answer.
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "ned@example.com", TemporaryPassword: "temporary-pass-phrase-9", MessageAction: MessageActionSuppress}); err != nil {
		t.Fatal(err)
	}
	res, err := e.signIn("ned@example.com", "temporary-pass-phrase-9")
	if err != nil || res.Challenge == nil {
		t.Fatalf("sign in: %v %+v", err, res)
	}
	out, err := e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengeNewPasswordRequired,
		Session: res.Challenge.Session, Responses: map[string]string{"USERNAME": "ned@example.com", "NEW_PASSWORD": goodPW2}})
	if err != nil || out.Tokens == nil || claimsOf(t, out.Tokens.IDToken)["custom:tier"] != "gold" {
		t.Fatalf("challenge answer: %v %+v", err, out)
	}
	if evs = hs.received(); len(evs) != 3 || evs[2]["triggerSource"] != hooks.SourceTokenNewPasswordChallenge {
		t.Fatalf("challenge events %v", evs)
	}
}

func TestHookPreTokenGenerationV2(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("eve@example.com")
	hs := newHookServer(t, hookSecret, echo(map[string]any{"claimsAndScopeOverrideDetails": map[string]any{
		"idTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"org": map[string]any{"id": 7, "roles": []string{"admin"}}}},
		"accessTokenGeneration": map[string]any{
			"claimsToAddOrOverride": map[string]any{"tenant": "acme"},
			"claimsToSuppress":      []string{"cognito:groups"},
			"scopesToAdd":           []string{"docs.read"},
		},
		"groupOverrideDetails": nil,
	}}))
	e.putHook(identity.TriggerPreTokenGeneration, hs, 0, "2")
	toks := e.mustSignIn("eve@example.com", goodPW)
	id, access := claimsOf(t, toks.IDToken), claimsOf(t, toks.AccessToken)
	if org, _ := json.Marshal(id["org"]); string(org) != `{"id":7,"roles":["admin"]}` {
		t.Fatalf("id org claim %s", org)
	}
	if access["tenant"] != "acme" || access["scope"] != scopeUserAdmin+" docs.read" {
		t.Fatalf("access claims %v", access)
	}
	ev := hs.received()[0]
	if ev["version"] != "2" || ev["request"].(map[string]any)["scopes"].([]any)[0] != scopeUserAdmin {
		t.Fatalf("V2 event %v", ev)
	}
}

func TestHookPreTokenGenerationForbiddenClaims(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("fay@example.com")
	hs := newHookServer(t, hookSecret, nil)
	for _, tc := range []struct {
		version string
		resp    map[string]any
	}{
		{"1", map[string]any{"claimsOverrideDetails": map[string]any{"claimsToAddOrOverride": map[string]any{"sub": "someone-else"}}}},
		{"1", map[string]any{"claimsOverrideDetails": map[string]any{"claimsToSuppress": []string{"exp"}}}},
		{"1", map[string]any{"claimsOverrideDetails": map[string]any{"claimsToAddOrOverride": map[string]any{"cognito:username": "admin"}}}},
		{"1", map[string]any{"claimsOverrideDetails": map[string]any{"claimsToAddOrOverride": map[string]any{"cognito:groups": "Admins"}}}},
		{"2", map[string]any{"claimsAndScopeOverrideDetails": map[string]any{"idTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"aud": "other-client"}}}}},
		{"2", map[string]any{"claimsAndScopeOverrideDetails": map[string]any{"accessTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"token_use": "id"}}}}},
		{"2", map[string]any{"claimsAndScopeOverrideDetails": map[string]any{"accessTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"client_id": "x"}}}}},
		{"2", map[string]any{"claimsAndScopeOverrideDetails": map[string]any{"accessTokenGeneration": map[string]any{"claimsToSuppress": []string{"iss"}}}}},
		{"2", map[string]any{"claimsAndScopeOverrideDetails": map[string]any{"accessTokenGeneration": map[string]any{"scopesToAdd": []string{"a b"}}}}},
	} {
		hs.setHandler(echo(tc.resp))
		e.putHook(identity.TriggerPreTokenGeneration, hs, 0, tc.version)
		res, err := e.signIn("fay@example.com", goodPW)
		if res != nil {
			t.Fatalf("v%s %v: tokens issued: %+v", tc.version, tc.resp, res)
		}
		wantErr(t, err, identity.CodeInvalidLambdaResponse, "")
		if !strings.HasPrefix(identity.ErrorMessage(err), "Unrecognizable lambda output from PreTokenGeneration: ") {
			t.Fatalf("message %q", identity.ErrorMessage(err))
		}
	}
	// The failed sign-ins did not count as password failures (the password
	// was right): the account is not locked, and signs in once the hook is fixed.
	if n := e.getUser("fay@example.com").FailedAttempts; n != 0 {
		t.Fatalf("failed attempts %d", n)
	}
	hs.setHandler(echo(map[string]any{}))
	e.mustSignIn("fay@example.com", goodPW)
}

func TestHookCustomMessage(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	hs := newHookServer(t, hookSecret, func(ev map[string]any) (int, any) {
		req := ev["request"].(map[string]any)
		if req["codeParameter"] != "{####}" || req["usernameParameter"] != "{username}" {
			return 500, nil
		}
		ev["response"] = map[string]any{
			"emailSubject": "Welcome to <Acme> & co",
			"emailMessage": "<p>Hello {username},</p><p>your code is <b>{####}</b> (" + ev["triggerSource"].(string) + ")</p>",
		}
		return 200, ev
	})
	e.putHook(identity.TriggerCustomMessage, hs, 0, "")
	addr := "o'neil+x@example.com"
	e.signUp(addr, nil)
	es := e.emailsTo(addr, TemplateSignUpCode)
	if len(es) != 1 {
		t.Fatalf("%d emails", len(es))
	}
	m := es[0]
	code := codeRE.FindString(m.Text)
	if m.Subject != "Welcome to <Acme> & co" || code == "" ||
		!strings.Contains(m.HTML, "<p>Hello o&#39;neil+x@example.com,</p><p>your code is <b>"+code+"</b> (CustomMessage_SignUp)</p>") ||
		!strings.Contains(m.Text, "Hello o'neil+x@example.com,\nyour code is "+code+" (CustomMessage_SignUp)") {
		t.Fatalf("email subject %q\ntext %q\nhtml %q", m.Subject, m.Text, m.HTML)
	}
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: addr, Code: code}); err != nil {
		t.Fatalf("confirm with the code of the custom email: %v", err)
	}
	// Forgot password and an invitation use their own trigger sources.
	if _, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: addr}); err != nil {
		t.Fatal(err)
	}
	if f := e.emailsTo(addr, TemplateForgotPassword); len(f) != 1 || !strings.Contains(f[0].HTML, "(CustomMessage_ForgotPassword)") {
		t.Fatalf("forgot email %+v", f)
	}
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "gil@example.com", TemporaryPassword: "temporary-pass-phrase-9"}); err != nil {
		t.Fatal(err)
	}
	if inv := e.emailsTo("gil@example.com", TemplateInvite); len(inv) != 1 ||
		!strings.Contains(inv[0].Text, "Hello gil@example.com,\nyour code is temporary-pass-phrase-9 (CustomMessage_AdminCreateUser)") {
		t.Fatalf("invite email %+v", inv)
	}

	// An answer without the code placeholder fails the call; nothing is written.
	hs.setHandler(echo(map[string]any{"emailSubject": "Hi", "emailMessage": "no code here"}))
	_, err := e.s.SignUp(e.ctx, SignUpInput{Client: e.c(), Username: "hal@example.com", Password: goodPW})
	wantErr(t, err, identity.CodeInvalidLambdaResponse, "Unrecognizable lambda output from CustomMessage: emailMessage must contain {####}.")
	if _, err := e.st.GetUserByUsername(e.ctx, e.pool.ID, "hal@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user written: %v", err)
	}
	// A subject with a line break could inject headers.
	hs.setHandler(echo(map[string]any{"emailSubject": "Hi\r\nBcc: x@evil.example", "emailMessage": "{####}"}))
	_, err = e.s.SignUp(e.ctx, SignUpInput{Client: e.c(), Username: "hal@example.com", Password: goodPW})
	wantErr(t, err, identity.CodeInvalidLambdaResponse, "")
	// An empty answer keeps the template.
	hs.setHandler(echo(map[string]any{}))
	e.signUp("ida@example.com", nil)
	if d := e.emailsTo("ida@example.com", TemplateSignUpCode); len(d) != 1 || strings.Contains(d[0].HTML, "CustomMessage_") || codeRE.FindString(d[0].Text) == "" {
		t.Fatalf("default email %+v", d)
	}
}

// jobRunner runs the env's post-confirmation jobs on a clock the test moves.
type jobRunner struct {
	r     *jobs.Runner
	mu    sync.Mutex
	clock time.Time
}

func newJobRunner(e *userEnv) *jobRunner {
	jr := &jobRunner{clock: time.Now()}
	now := func() time.Time {
		jr.mu.Lock()
		defer jr.mu.Unlock()
		return jr.clock
	}
	// Retries follow the database's clock: move that one.
	storetest.UseClock(e.t, e.st, now)
	jr.r = jobs.NewRunner(e.st, jobs.Options{Worker: "test", Now: now})
	jr.r.Register(HookJobKind, e.s.PostConfirmationHandler())
	jr.r.Register("email.send", func(context.Context, *identity.Job) error { return nil })
	return jr
}

func (jr *jobRunner) advance(d time.Duration) {
	jr.mu.Lock()
	jr.clock = jr.clock.Add(d)
	jr.mu.Unlock()
}

// TestHookPostConfirmation runs on SQLite and (with GATEHOUSE_TEST_POSTGRES)
// PostgreSQL: the event is a job committed with the confirmation.
func TestHookPostConfirmation(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(poolIn func(*CreatePoolInput), clientIn func(*CreateClientInput)) *userEnv) {
		testHookPostConfirmation(t, setup(nil, nil))
	})
}

func testHookPostConfirmation(t *testing.T, e *userEnv) {
	fail := true
	var mu sync.Mutex
	hs := newHookServer(t, hookSecret, func(ev map[string]any) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return 503, "try later"
		}
		return 200, ev
	})
	e.putHook(identity.TriggerPostConfirmation, hs, 0, "")
	jr := newJobRunner(e)

	// A failing hook does not fail the confirmation: the event is a job.
	u := e.confirmedUser("jo@example.com")
	if u.Status != identity.StatusConfirmed {
		t.Fatalf("status %s", u.Status)
	}
	if _, err := jr.r.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.st.CountJobs(e.ctx, identity.JobPending); n < 1 {
		t.Fatalf("the failed delivery is not pending for retry")
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	jr.advance(time.Hour)
	if _, err := jr.r.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	evs := hs.received()
	if len(evs) != 2 {
		t.Fatalf("%d deliveries, want 2 (a failure and a retry)", len(evs))
	}
	hs.mu.Lock()
	d := hs.deliveries
	hs.mu.Unlock()
	if d[0] == "" || d[0] != d[1] {
		t.Fatalf("delivery ids %q: a retry must repeat the id", d)
	}
	ev := evs[1]
	attrs := ev["request"].(map[string]any)["userAttributes"].(map[string]any)
	if ev["triggerSource"] != hooks.SourcePostConfirmationConfirmSignUp || attrs["cognito:user_status"] != "CONFIRMED" || attrs["email"] != "jo@example.com" {
		t.Fatalf("event %v", ev)
	}
	if n, _ := e.st.CountJobs(e.ctx, identity.JobPending); n != 0 {
		t.Fatalf("%d jobs still pending", n)
	}

	// An invited user fires it when the NEW_PASSWORD_REQUIRED challenge
	// makes it CONFIRMED (Cognito does not), and not at creation.
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "kim@example.com", TemporaryPassword: "temporary-pass-phrase-9"}); err != nil {
		t.Fatal(err)
	}
	jr.r.RunOnce(e.ctx)
	if n := len(hs.received()); n != 2 {
		t.Fatalf("creation fired the hook (%d events)", n)
	}
	res, err := e.signIn("kim@example.com", "temporary-pass-phrase-9")
	if err != nil || res.Challenge == nil {
		t.Fatalf("sign in: %v %+v", err, res)
	}
	if _, err := e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengeNewPasswordRequired,
		Session: res.Challenge.Session, Responses: map[string]string{"USERNAME": "kim@example.com", "NEW_PASSWORD": goodPW2}}); err != nil {
		t.Fatal(err)
	}
	jr.r.RunOnce(e.ctx)
	evs = hs.received()
	if len(evs) != 3 || evs[2]["request"].(map[string]any)["userAttributes"].(map[string]any)["email"] != "kim@example.com" {
		t.Fatalf("events after the challenge: %v", evs)
	}

	// ConfirmForgotPassword fires it with its own source, as in Cognito.
	if _, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jo@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com",
		Code: e.lastCode("jo@example.com", TemplateForgotPassword), NewPassword: goodPW2}); err != nil {
		t.Fatal(err)
	}
	jr.r.RunOnce(e.ctx)
	if evs = hs.received(); len(evs) != 4 || evs[3]["triggerSource"] != hooks.SourcePostConfirmationConfirmForgotPassword {
		t.Fatalf("events after the reset: %v", evs)
	}

	// AdminConfirmSignUp fires it too.
	e.signUp("max@example.com", nil)
	if err := e.s.AdminConfirmSignUp(e.ctx, e.pool.ID, "max@example.com"); err != nil {
		t.Fatal(err)
	}
	jr.r.RunOnce(e.ctx)
	if evs = hs.received(); len(evs) != 5 || evs[4]["request"].(map[string]any)["userAttributes"].(map[string]any)["email"] != "max@example.com" {
		t.Fatalf("events after admin confirm: %v", evs)
	}

	// A rejection is not retried.
	hs.setHandler(func(map[string]any) (int, any) { return 400, map[string]any{"errorMessage": "no"} })
	e.confirmedUser("lee@example.com")
	jr.r.RunOnce(e.ctx)
	if n, _ := e.st.CountJobs(e.ctx, identity.JobDead); n != 1 {
		t.Fatalf("%d dead jobs, want the rejected one", n)
	}
}

func TestHookAdmin(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	hs := newHookServer(t, "", echo(map[string]any{}))
	h, secret, err := e.s.PutHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp, HookInput{URL: hs.URL, TimeoutMS: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, hooks.SecretPrefix) || h.Secret != identity.MaskedSecret || h.TimeoutMS != 1500 {
		t.Fatalf("PutHook = %+v, %q", h, secret)
	}
	hs.mu.Lock()
	hs.secret = secret
	hs.mu.Unlock()
	got, err := e.s.GetHooks(e.ctx, e.pool.ID)
	if err != nil || got.PreSignUp == nil || got.PreSignUp.Secret != identity.MaskedSecret || got.PreSignUp.URL != hs.URL {
		t.Fatalf("GetHooks = %+v, %v", got.PreSignUp, err)
	}
	// Changing the URL keeps the secret; nothing shown.
	if _, again, err := e.s.PutHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp, HookInput{URL: hs.URL + "/v2", Secret: identity.MaskedSecret}); err != nil || again != "" {
		t.Fatalf("PutHook again: %q %v", again, err)
	}
	// A pool update carrying the masked settings back keeps the secret.
	p, err := e.s.GetPool(e.ctx, e.pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.Hooks = p.Settings.Hooks.Masked()
	if _, err := e.s.UpdatePool(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	p, _ = e.s.GetPool(e.ctx, e.pool.ID)
	if p.Settings.Hooks.PreSignUp.Secret != secret || p.Settings.Hooks.PreSignUp.URL != hs.URL+"/v2" {
		t.Fatalf("stored hook after round trip: %+v", p.Settings.Hooks.PreSignUp)
	}
	// The test event reaches the receiver, which verifies the signature.
	res, err := e.s.TestHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp)
	if err != nil || !res.OK || res.Status != 200 || res.Latency <= 0 || res.Source != hooks.SourcePreSignUpSignUp {
		t.Fatalf("TestHook = %+v, %v", res, err)
	}
	// Rotation shows a new secret once; the receiver still on the old one refuses.
	_, rotated, err := e.s.PutHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp, HookInput{URL: hs.URL, RotateSecret: true})
	if err != nil || rotated == "" || rotated == secret {
		t.Fatalf("rotate: %q %v", rotated, err)
	}
	res, err = e.s.TestHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp)
	if err != nil || res.OK || res.Status != 401 || res.ErrorCode != identity.CodeUnexpectedLambda {
		t.Fatalf("TestHook after rotation = %+v, %v", res, err)
	}
	for _, tc := range []struct {
		trigger identity.HookTrigger
		in      HookInput
		field   string
	}{
		{"pre_login", HookInput{URL: hs.URL}, "trigger"},
		{identity.TriggerPreSignUp, HookInput{URL: "file:///etc/passwd"}, "url"},
		{identity.TriggerPreSignUp, HookInput{URL: "gopher://x/"}, "url"},
		{identity.TriggerPreSignUp, HookInput{URL: hs.URL, TimeoutMS: 6000}, "timeout_ms"},
		{identity.TriggerPreSignUp, HookInput{URL: hs.URL, Version: "2"}, "version"},
		{identity.TriggerPreSignUp, HookInput{URL: hs.URL, Secret: "short"}, "secret"},
	} {
		_, _, err := e.s.PutHook(e.ctx, e.pool.ID, tc.trigger, tc.in)
		var ie *identity.Error
		if !errors.As(err, &ie) || ie.Code != identity.CodeInvalidParameter || ie.Field != tc.field {
			t.Errorf("PutHook(%s, %+v) = %v, want invalid %s", tc.trigger, tc.in, err, tc.field)
		}
	}
	if err := e.s.DeleteHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.TestHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp); identity.ErrorCode(err) != identity.CodeResourceNotFound {
		t.Fatalf("TestHook without hook: %v", err)
	}
	// A disabled hook is not called.
	hs.secret = hookSecret
	if _, _, err := e.s.PutHook(e.ctx, e.pool.ID, identity.TriggerPreSignUp, HookInput{URL: hs.URL, Secret: hookSecret, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	hs.setHandler(func(map[string]any) (int, any) { return 400, map[string]any{"errorMessage": "no"} })
	e.signUp("mo@example.com", nil)
}

// TestHookPostConfirmationOnApproval: in an admin-approval pool, verifying
// the email does not fire post_confirmation (the user is not active yet);
// the approval does (Cognito has no such step).
func TestHookPostConfirmationOnApproval(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}
	}, nil)
	p, err := e.s.GetPool(e.ctx, e.pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.SignUp.Approval = &identity.ApprovalPolicy{OnNoApprover: identity.NoApproverAdmins, PoolAdmins: []string{"admin@example.com"}}
	if e.pool, err = e.s.UpdatePool(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	hs := newHookServer(t, hookSecret, func(ev map[string]any) (int, any) { return 200, ev })
	e.putHook(identity.TriggerPostConfirmation, hs, 0, "")
	jr := newJobRunner(e)
	email := "applicant@example.com"
	e.signUp(email, map[string]string{"custom:company_name": "Acme"})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: email, Code: e.lastCode(email, TemplateSignUpCode)}); err != nil {
		t.Fatal(err)
	}
	jr.r.RunOnce(e.ctx)
	if n := len(hs.received()); n != 0 {
		t.Fatalf("%d events before approval", n)
	}
	reqs, _, err := e.s.ListRegistrations(e.ctx, e.pool.ID, RegistrationFilter{}, 10, "")
	if err != nil || len(reqs) != 1 {
		t.Fatalf("registrations %v %v", reqs, err)
	}
	if _, err := e.s.DecideRegistration(e.ctx, e.pool.ID, reqs[0].ID, identity.DecisionApprove, "ok", RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	jr.r.RunOnce(e.ctx)
	evs := hs.received()
	if len(evs) != 1 {
		t.Fatalf("%d events after approval", len(evs))
	}
	attrs := evs[0]["request"].(map[string]any)["userAttributes"].(map[string]any)
	if evs[0]["triggerSource"] != hooks.SourcePostConfirmationConfirmSignUp || attrs["email"] != email || attrs["cognito:user_status"] != "CONFIRMED" {
		t.Fatalf("event %v", evs[0])
	}
}
