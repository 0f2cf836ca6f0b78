package auth

import (
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const legacyPW = "the-password-the-old-system-knows"

// legacyHook is the old system: it knows the users in known (username to
// password) and answers UserMigration events as a Cognito Lambda would,
// with resp as the response of a known user.
func legacyHook(known map[string]string, resp map[string]any) func(ev map[string]any) (int, any) {
	return func(ev map[string]any) (int, any) {
		name, _ := ev["userName"].(string)
		want, ok := known[name]
		req := ev["request"].(map[string]any)
		if !ok || (ev["triggerSource"] == hooks.SourceUserMigrationAuthentication && req["password"] != want) {
			return 400, map[string]any{"errorMessage": "Bad password"}
		}
		ev["response"] = resp
		return 200, ev
	}
}

func TestUserMigrationAtSignIn(t *testing.T) {
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		hs := newHookServer(t, hookSecret, legacyHook(map[string]string{"old@example.com": legacyPW}, map[string]any{
			"userAttributes":  map[string]string{"email": "old@example.com", "email_verified": "true", "name": "Old Timer", "sub": "legacy-sub"},
			"finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}))
		e.putHook(identity.TriggerUserMigration, hs, 0, "")

		// Unknown to both: Cognito's answer, nothing written.
		_, err := e.signIn("nobody@example.com", legacyPW)
		wantErr(t, err, identity.CodeUserNotFound, "Exception migrating user in app client "+e.client.ID)
		// Known to the old system, wrong password: the same.
		_, err = e.signIn("old@example.com", "not-the-password-at-all")
		wantErr(t, err, identity.CodeUserNotFound, "Exception migrating user in app client "+e.client.ID)
		e.nothingWritten(t)

		r, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthUserPassword, Username: "old@example.com",
			Password: legacyPW, ClientMetadata: map[string]string{"app": "v1"}})
		if err != nil || r.Tokens == nil {
			t.Fatalf("migrating sign-in: %+v, %v", r, err)
		}
		u := e.getUser("old@example.com")
		if u.Status != identity.StatusConfirmed || !u.EmailVerified || u.Attributes["name"] != "Old Timer" || u.Sub == "legacy-sub" ||
			!strings.HasPrefix(u.PasswordHash, "$argon2id$") || u.SRPVerifier == "" {
			t.Fatalf("migrated user = %+v", u)
		}
		if !hasAction(e.auditActions(), "user.migrated") {
			t.Fatalf("no user.migrated audit: %v", e.auditActions())
		}
		evs := hs.received()
		ev := evs[len(evs)-1]
		req := ev["request"].(map[string]any)
		if ev["triggerSource"] != hooks.SourceUserMigrationAuthentication || ev["userName"] != "old@example.com" ||
			req["password"] != legacyPW || req["clientMetadata"].(map[string]any)["app"] != "v1" {
			t.Fatalf("event %v", ev)
		}
		// Migrated once: the pool answers from now on, the hook is not asked.
		n := len(hs.received())
		e.mustSignIn("old@example.com", legacyPW)
		if _, err := e.signIn("old@example.com", "not-the-password-at-all"); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("wrong password after migration: %v", err)
		}
		if len(hs.received()) != n {
			t.Fatal("the hook was asked about a user the pool has")
		}
	})
}

// SRP never carries the password, so USER_SRP_AUTH cannot migrate (as in
// Cognito): the hook is not asked and the name is unknown.
func TestUserMigrationNotForSRP(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, func(in *CreateClientInput) { in.AuthFlows = append(in.AuthFlows, identity.FlowUserSRP) })
	hs := newHookServer(t, hookSecret, legacyHook(map[string]string{"old@example.com": legacyPW}, map[string]any{
		"userAttributes": map[string]string{"email": "old@example.com", "email_verified": "true"}}))
	e.putHook(identity.TriggerUserMigration, hs, 0, "")
	_, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthUserSRP, Username: "old@example.com",
		Params: map[string]string{"SRP_A": "02"}})
	if identity.ErrorCode(err) != identity.CodeUserNotFound || len(hs.received()) != 0 {
		t.Fatalf("SRP sign-in of an unknown user: %v, %d hook calls", err, len(hs.received()))
	}
}

// The hook's answer is data, not a decision: a company named in
// userAttributes is a request for the approvers, the sign-up policy of an
// approval pool still holds the user, and nothing the hook says puts the
// user in a group or a company. security.md A8
func TestUserMigrationCompanyIsNotAuthority(t *testing.T) {
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := companySetup(t, setup)
		hs := newHookServer(t, hookSecret, legacyHook(map[string]string{"mal@globex.example": legacyPW}, map[string]any{
			"userAttributes":  map[string]string{"email": "mal@globex.example", "email_verified": "true", companyAttr: "Acme"},
			"finalUserStatus": "CONFIRMED"}))
		e.putHook(identity.TriggerUserMigration, hs, 0, "")

		_, err := e.signIn("mal@globex.example", legacyPW)
		if c := identity.ErrorCode(err); c != identity.CodeApprovalPending && c != identity.CodeUserNotConfirmed {
			t.Fatalf("sign-in of a migrated user in an approval pool: %v", err)
		}
		u := e.getUser("mal@globex.example")
		if u.Status != identity.StatusUnconfirmed || u.Attributes[companyAttr] != "" {
			t.Fatalf("migrated user %s, company %q", u.Status, u.Attributes[companyAttr])
		}
		if gs := e.groupsOf("mal@globex.example"); len(gs) != 0 {
			t.Fatalf("migrated user joined %v", gs)
		}
		r, err := e.st.GetRegistrationByUser(e.ctx, e.pool.ID, u.Sub)
		if err != nil || r.State != identity.RegPending || r.CompanyName != "Acme" {
			t.Fatalf("registration %+v, %v", r, err)
		}

		// Groups are no user attribute: an answer naming them is refused
		// and writes nothing.
		hs.setHandler(legacyHook(map[string]string{"eve@globex.example": legacyPW}, map[string]any{
			"userAttributes": map[string]string{"email": "eve@globex.example", "email_verified": "true", "cognito:groups": "Users"}}))
		_, err = e.signIn("eve@globex.example", legacyPW)
		wantErr(t, err, identity.CodeUserNotFound, "Exception migrating user in app client "+e.client.ID)
		if _, err := e.st.GetUserByUsername(e.ctx, e.pool.ID, "eve@globex.example"); err == nil {
			t.Fatal("a refused migration wrote a user")
		}
	})
}

// Answers Gatehouse cannot honour fail the migration and write nothing;
// with PreventUserExistenceErrors every failure is the unknown user's.
func TestUserMigrationBadAnswers(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	hs := newHookServer(t, hookSecret, nil)
	e.putHook(identity.TriggerUserMigration, hs, 0, "")
	attrs := map[string]string{"email": "old@example.com", "email_verified": "true"}
	for name, resp := range map[string]map[string]any{
		"status":       {"userAttributes": attrs, "finalUserStatus": "FORCE_CHANGE_PASSWORD"},
		"mfa":          {"userAttributes": attrs, "enableSMSMFA": true},
		"no attrs":     {"finalUserStatus": "CONFIRMED"},
		"action":       {"userAttributes": attrs, "messageAction": "RESEND"},
		"medium":       {"userAttributes": attrs, "desiredDeliveryMediums": []string{"PIGEON"}},
		"other email":  {"userAttributes": map[string]string{"email": "other@example.com"}},
		"bad verified": {"userAttributes": map[string]string{"email": "old@example.com", "email_verified": "yes"}},
	} {
		hs.setHandler(echo(resp))
		_, err := e.signIn("old@example.com", legacyPW)
		if identity.ErrorCode(err) != identity.CodeUserNotFound {
			t.Errorf("%s: %v", name, err)
		}
	}
	e.nothingWritten(t)

	p, _ := e.s.GetPool(e.ctx, e.pool.ID)
	p.PreventUserExistenceErrors = true
	if _, err := e.s.UpdatePool(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	hs.setHandler(func(map[string]any) (int, any) { return 400, map[string]any{"errorMessage": "Bad password"} })
	_, err := e.signIn("old@example.com", legacyPW)
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
}

// A forgotten password of a user only the old system knows: the hook is
// asked without a password, the user arrives RESET_REQUIRED with the
// code on its way, and the reset makes it CONFIRMED.
func TestUserMigrationForgotPassword(t *testing.T) {
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		hs := newHookServer(t, hookSecret, legacyHook(map[string]string{"old@example.com": ""}, map[string]any{
			"userAttributes": map[string]string{"email": "old@example.com", "email_verified": "true"}}))
		e.putHook(identity.TriggerUserMigration, hs, 0, "")

		_, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "nobody@example.com"})
		wantErr(t, err, identity.CodeUserLambdaValidation, "UserMigration failed with error Bad password.")

		cd, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "old@example.com"})
		if err != nil || cd == nil {
			t.Fatalf("ForgotPassword: %+v, %v", cd, err)
		}
		evs := hs.received()
		ev := evs[len(evs)-1]
		if ev["triggerSource"] != hooks.SourceUserMigrationForgotPassword || ev["request"].(map[string]any)["password"] != "" {
			t.Fatalf("event %v", ev)
		}
		if u := e.getUser("old@example.com"); u.Status != identity.StatusResetRequired || u.PasswordHash != "" {
			t.Fatalf("migrated user %s hash %q", u.Status, u.PasswordHash)
		}
		code := e.lastCode("old@example.com", TemplateForgotPassword)
		if err := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "old@example.com", Code: code, NewPassword: goodPW}); err != nil {
			t.Fatal(err)
		}
		e.mustSignIn("old@example.com", goodPW)
	})
}
