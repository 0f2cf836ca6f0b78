package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestAdminCreateUserInvitation(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.Schema = []identity.AttributeDef{{Name: "custom:team", Mutable: true}}
		})
		v, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: " Ann@Example.com ",
			Attributes: map[string]string{"name": "Ann Lee", "custom:team": "blue", "email_verified": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		u := v.User
		if u.Username != "ann@example.com" || u.Email != "ann@example.com" || !u.EmailVerified || u.Status != identity.StatusForceChangePassword || !u.Enabled {
			t.Errorf("user = %+v", u)
		}
		if u.Attributes["name"] != "Ann Lee" || u.Attributes["custom:team"] != "blue" || len(u.Attributes) != 2 {
			t.Errorf("attributes = %v", u.Attributes)
		}
		if want := e.now().Add(7 * 24 * time.Hour); !u.TemporaryPasswordExpiresAt.Equal(want) {
			t.Errorf("temporary password expires %v, want %v", u.TemporaryPasswordExpiresAt, want)
		}
		es := e.emails(p.ID)
		if len(es) != 1 || es[0].To != "ann@example.com" || es[0].Template != TemplateInvite {
			t.Fatalf("emails = %+v", es)
		}
		// The emailed temporary password is the one whose hash is stored.
		temp := ""
		for _, line := range strings.Split(es[0].Text, "\n") {
			if _, after, ok := strings.Cut(line, "Temporary password:"); ok {
				temp = strings.TrimSpace(after)
			}
		}
		if len(temp) < 16 {
			t.Fatalf("no temporary password in the invitation:\n%s", es[0].Text)
		}
		stored, _ := e.st.GetUser(e.ctx, p.ID, u.Sub)
		if ok, err := e.hash.Verify(e.ctx, stored.PasswordHash, temp); !ok || err != nil {
			t.Errorf("emailed password does not verify: %v", err)
		}
		if !strings.Contains(es[0].Text, "https://id.example.com/"+p.ID) || !strings.Contains(es[0].Text, "7 days") {
			t.Errorf("invitation text:\n%s", es[0].Text)
		}

		// Duplicates, in any case.
		_, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "ANN@example.com", MessageAction: "SUPPRESS"})
		admWantCode(t, err, identity.CodeUsernameExists)

		// RESEND: a new temporary password, a second email.
		e.advance(time.Hour)
		if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "ann@example.com", MessageAction: "RESEND"}); err != nil {
			t.Fatal(err)
		}
		again, _ := e.st.GetUser(e.ctx, p.ID, u.Sub)
		if again.PasswordHash == stored.PasswordHash || !again.TemporaryPasswordExpiresAt.Equal(e.now().Add(7*24*time.Hour)) {
			t.Errorf("RESEND did not renew the temporary password")
		}
		if n := len(e.emails(p.ID)); n != 2 {
			t.Errorf("emails after RESEND = %d", n)
		}
		_, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "nobody@example.com", MessageAction: "RESEND"})
		admWantCode(t, err, identity.CodeUserNotFound)

		if a := e.auditActions(p.ID); !contains(a, "admin.user_create") || !contains(a, "admin.user_resend_invitation") {
			t.Errorf("audit = %v", a)
		}
	})
}

func TestAdminCreateUserUsernameMode(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.UsernameMode = identity.UsernameWithEmailAlias
			in.UniqueEmail = true
		})
		// An invitation needs an email.
		_, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "bob"})
		ie := admWantCode(t, err, identity.CodeInvalidParameter)
		if ie.Field != "email" {
			t.Errorf("field = %q", ie.Field)
		}
		u := e.user(p, "Bob", nil)
		if u.Username != "bob" || u.Email != "" {
			t.Errorf("user = %+v", u)
		}
		if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "carol", Attributes: map[string]string{"email": "c@example.com"}}); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "dave", Attributes: map[string]string{"email": "C@example.com"}, MessageAction: "SUPPRESS"})
		admWantCode(t, err, identity.CodeAliasExists)
		// RESEND for a user without email.
		_, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: p.ID, Username: "bob", MessageAction: "RESEND"})
		admWantCode(t, err, identity.CodeInvalidParameter)
	})
}

func TestAdminCreateUserInvalid(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.Schema = []identity.AttributeDef{
				{Name: "custom:level", Type: identity.AttrNumber, MinValue: admInt64p(1), MaxValue: admInt64p(5)},
				{Name: "custom:tenant", Required: true},
			}
		})
		req := map[string]string{"custom:tenant": "t1"}
		with := func(kv ...string) map[string]string {
			m := map[string]string{"custom:tenant": "t1"}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		cases := []struct {
			name string
			in   AdminCreateUserInput
			code identity.Code
		}{
			{"no username", AdminCreateUserInput{Attributes: req}, identity.CodeInvalidParameter},
			{"not an email", AdminCreateUserInput{Username: "ann", Attributes: req}, identity.CodeInvalidParameter},
			{"two addresses", AdminCreateUserInput{Username: "a@example.com, b@example.com", Attributes: req}, identity.CodeInvalidParameter},
			{"email differs", AdminCreateUserInput{Username: "a@example.com", Attributes: with("email", "b@example.com")}, identity.CodeInvalidParameter},
			{"unknown attr", AdminCreateUserInput{Username: "a@example.com", Attributes: with("shoe_size", "9")}, identity.CodeInvalidParameter},
			{"custom not in schema", AdminCreateUserInput{Username: "a@example.com", Attributes: with("custom:nope", "x")}, identity.CodeInvalidParameter},
			{"number", AdminCreateUserInput{Username: "a@example.com", Attributes: with("custom:level", "x")}, identity.CodeInvalidParameter},
			{"number range", AdminCreateUserInput{Username: "a@example.com", Attributes: with("custom:level", "9")}, identity.CodeInvalidParameter},
			{"required missing", AdminCreateUserInput{Username: "a@example.com"}, identity.CodeInvalidParameter},
			{"phone", AdminCreateUserInput{Username: "a@example.com", Attributes: with("phone_number", "555-1234")}, identity.CodeInvalidParameter},
			{"sub", AdminCreateUserInput{Username: "a@example.com", Attributes: with("sub", "x")}, identity.CodeInvalidParameter},
			{"verified value", AdminCreateUserInput{Username: "a@example.com", Attributes: with("email_verified", "yes")}, identity.CodeInvalidParameter},
			{"message action", AdminCreateUserInput{Username: "a@example.com", Attributes: req, MessageAction: "EMAIL"}, identity.CodeInvalidParameter},
			{"weak temp password", AdminCreateUserInput{Username: "a@example.com", Attributes: req, TemporaryPassword: "short"}, identity.CodeInvalidPassword},
			{"common temp password", AdminCreateUserInput{Username: "a@example.com", Attributes: req, TemporaryPassword: "password1234567"}, identity.CodeInvalidPassword},
		}
		for _, c := range cases {
			c.in.PoolID = p.ID
			_, err := e.s.AdminCreateUser(e.ctx, c.in)
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			if identity.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if n := e.countUsers(p.ID); n != 0 {
			t.Errorf("invalid inputs created %d users", n)
		}
		if es := e.emails(p.ID); len(es) != 0 {
			t.Errorf("invalid inputs sent %d emails", len(es))
		}
		_, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: "us-east-1_Unknown12", Username: "a@example.com"})
		admWantCode(t, err, identity.CodeResourceNotFound)
	})
}

func TestListUsersPaginationAndFilter(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		for i := range 130 {
			name := fmt.Sprintf("user%03d@example.com", i)
			if i%10 == 0 {
				name = fmt.Sprintf("joe%03d@example.org", i)
			}
			e.user(p, name, map[string]string{"given_name": fmt.Sprintf("G%d", i%3)})
			e.advance(time.Millisecond)
		}
		seen := map[string]bool{}
		var sizes []int
		tok := ""
		for {
			us, next, err := e.s.ListUsers(e.ctx, ListUsersInput{PoolID: p.ID, Limit: 60, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(us))
			for _, u := range us {
				if seen[u.Sub] {
					t.Fatalf("user %s listed twice", u.Username)
				}
				seen[u.Sub] = true
			}
			if next == "" {
				break
			}
			tok = next
		}
		if fmt.Sprint(sizes) != "[60 60 10]" || len(seen) != 130 {
			t.Errorf("page sizes %v, %d users", sizes, len(seen))
		}

		us, _, err := e.s.ListUsers(e.ctx, ListUsersInput{PoolID: p.ID, Filter: `email ^= "JOE"`})
		if err != nil || len(us) != 13 {
			t.Errorf("prefix filter: %d users, %v", len(us), err)
		}
		us, _, err = e.s.ListUsers(e.ctx, ListUsersInput{PoolID: p.ID, Filter: `username = "User001@Example.com"`})
		if err != nil || len(us) != 1 || us[0].Username != "user001@example.com" {
			t.Errorf("equals filter: %v, %v", us, err)
		}
		us, _, err = e.s.ListUsers(e.ctx, ListUsersInput{PoolID: p.ID, Filter: `given_name = "G1"`})
		if err != nil || len(us) != 43 {
			t.Errorf("given_name filter: %d, %v", len(us), err)
		}
		us, _, err = e.s.ListUsers(e.ctx, ListUsersInput{PoolID: p.ID, Filter: `cognito:user_status = "FORCE_CHANGE_PASSWORD"`, Limit: 5})
		if err != nil || len(us) != 5 {
			t.Errorf("status filter: %d, %v", len(us), err)
		}
		for _, bad := range []ListUsersInput{
			{PoolID: p.ID, Filter: `custom:x = "y"`},
			{PoolID: p.ID, Limit: 61},
			{PoolID: p.ID, Limit: -1},
			{PoolID: p.ID, Token: "not a token"},
		} {
			_, _, err := e.s.ListUsers(e.ctx, bad)
			admWantCode(t, err, identity.CodeInvalidParameter)
		}
	})
}

func TestAdminUserStatusChanges(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		u := e.user(p, "ann@example.com", nil)

		err := e.s.AdminConfirmSignUp(e.ctx, p.ID, u.Username)
		ie := admWantCode(t, err, identity.CodeNotAuthorized)
		if ie.Message != "User cannot be confirmed. Current status is FORCE_CHANGE_PASSWORD" {
			t.Errorf("message %q", ie.Message)
		}
		// An UNCONFIRMED user (as sign-up leaves it) is confirmed.
		raw, _ := e.st.GetUser(e.ctx, p.ID, u.Sub)
		raw.Status = identity.StatusUnconfirmed
		if err := e.st.UpdateUser(e.ctx, raw, true); err != nil {
			t.Fatal(err)
		}
		if err := e.s.AdminConfirmSignUp(e.ctx, p.ID, u.Username); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.st.GetUser(e.ctx, p.ID, u.Sub); got.Status != identity.StatusConfirmed {
			t.Errorf("status = %s", got.Status)
		}

		// Set a permanent password: CONFIRMED, the new hash verifies, failures cleared.
		if _, _, err := e.st.RecordFailedAttempt(e.ctx, p.ID, u.Sub, e.now(), 1, time.Minute); err != nil {
			t.Fatal(err)
		}
		err = e.s.AdminSetUserPassword(e.ctx, p.ID, u.Username, "short", true)
		admWantCode(t, err, identity.CodeInvalidPassword)
		const pw = "correct-horse-battery-staple"
		if err := e.s.AdminSetUserPassword(e.ctx, p.ID, u.Username, pw, true); err != nil {
			t.Fatal(err)
		}
		got, _ := e.st.GetUser(e.ctx, p.ID, u.Sub)
		if ok, _ := e.hash.Verify(e.ctx, got.PasswordHash, pw); !ok || got.Status != identity.StatusConfirmed || got.FailedAttempts != 0 || !got.LockedUntil.IsZero() || !got.TemporaryPasswordExpiresAt.IsZero() {
			t.Errorf("after permanent set: %+v", got)
		}
		if got.TokensValidAfter.IsZero() {
			t.Error("sessions not revoked by AdminSetUserPassword")
		}
		// Temporary: FORCE_CHANGE_PASSWORD with a fresh expiry.
		e.advance(time.Hour)
		if err := e.s.AdminSetUserPassword(e.ctx, p.ID, u.Username, "another-long-passphrase", false); err != nil {
			t.Fatal(err)
		}
		got, _ = e.st.GetUser(e.ctx, p.ID, u.Sub)
		if got.Status != identity.StatusForceChangePassword || !got.TemporaryPasswordExpiresAt.Equal(e.now().Add(7*24*time.Hour)) {
			t.Errorf("after temporary set: %s, %v", got.Status, got.TemporaryPasswordExpiresAt)
		}

		// Disable ends sessions; enable restores.
		e.advance(time.Hour)
		if err := e.s.AdminDisableUser(e.ctx, p.ID, u.Username); err != nil {
			t.Fatal(err)
		}
		got, _ = e.st.GetUser(e.ctx, p.ID, u.Sub)
		if got.Enabled || !got.TokensValidAfter.Equal(e.now()) {
			t.Errorf("after disable: enabled=%v tokensValidAfter=%v", got.Enabled, got.TokensValidAfter)
		}
		if err := e.s.AdminEnableUser(e.ctx, p.ID, u.Username); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.st.GetUser(e.ctx, p.ID, u.Sub); !got.Enabled {
			t.Error("not enabled")
		}

		// Global sign-out.
		e.advance(time.Hour)
		if err := e.s.AdminUserGlobalSignOut(e.ctx, p.ID, u.Username); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.st.GetUser(e.ctx, p.ID, u.Sub); !got.TokensValidAfter.Equal(e.now()) {
			t.Errorf("global sign-out: tokensValidAfter=%v", got.TokensValidAfter)
		}

		// Reset: RESET_REQUIRED and a reset code emailed.
		before := len(e.emails(p.ID))
		if err := e.s.AdminResetUserPassword(e.ctx, p.ID, u.Username); err != nil {
			t.Fatal(err)
		}
		got, _ = e.st.GetUser(e.ctx, p.ID, u.Sub)
		es := e.emails(p.ID)
		if got.Status != identity.StatusResetRequired || len(es) != before+1 || es[0].Template != TemplateForgotPassword {
			t.Errorf("after reset: %s, %d emails", got.Status, len(es))
		}

		if err := e.s.AdminDeleteUser(e.ctx, p.ID, u.Username); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.AdminGetUser(e.ctx, p.ID, u.Username)
		admWantCode(t, err, identity.CodeUserNotFound)
		admWantCode(t, e.s.AdminDeleteUser(e.ctx, p.ID, u.Username), identity.CodeUserNotFound)
		admWantCode(t, e.s.AdminDisableUser(e.ctx, "us-east-1_Unknown12", u.Username), identity.CodeResourceNotFound)

		a := e.auditActions(p.ID)
		for _, want := range []string{"admin.user_confirm", "admin.user_set_password", "admin.user_disable", "admin.user_enable",
			"admin.user_global_sign_out", "admin.user_reset_password", "admin.user_delete"} {
			if !contains(a, want) {
				t.Errorf("audit %v lacks %s", a, want)
			}
		}
	})
}

func TestAdminUpdateAndDeleteAttributes(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.Schema = []identity.AttributeDef{
				{Name: "custom:team", Mutable: true},
				{Name: "custom:tenant", Required: true},
				{Name: "custom:origin"},
			}
		})
		base := map[string]string{"custom:tenant": "t1", "custom:origin": "import", "email_verified": "true"}
		ann := e.user(p, "ann@example.com", base)
		e.user(p, "bob@example.com", base)

		// A changed email becomes unverified and gets a verification code; the
		// username follows it in an email pool.
		if err := e.s.AdminUpdateUserAttributes(e.ctx, p.ID, "ann@example.com", map[string]string{"email": "Ann.Lee@example.com", "name": "Ann"}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.st.GetUser(e.ctx, p.ID, ann.Sub)
		if got.Email != "ann.lee@example.com" || got.Username != "ann.lee@example.com" || got.EmailVerified || got.Attributes["name"] != "Ann" {
			t.Errorf("after email change: %+v", got)
		}
		if es := e.emails(p.ID); len(es) != 1 || es[0].Template != TemplateVerifyEmail || es[0].To != "ann.lee@example.com" {
			t.Errorf("emails = %+v", es)
		}
		// With email_verified=true in the same call it stays verified, no code.
		if err := e.s.AdminUpdateUserAttributes(e.ctx, p.ID, "ann.lee@example.com", map[string]string{"email": "ann@example.net", "email_verified": "true"}); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.st.GetUser(e.ctx, p.ID, ann.Sub); !got.EmailVerified || got.Email != "ann@example.net" {
			t.Errorf("verified change: %+v", got)
		}
		if n := len(e.emails(p.ID)); n != 1 {
			t.Errorf("emails = %d, want no new code", n)
		}

		for name, attrs := range map[string]map[string]string{
			"clash":      {"email": "BOB@example.com"},
			"immutable":  {"custom:origin": "x"},
			"unknown":    {"custom:nope": "x"},
			"required":   {"custom:tenant": ""},
			"bad email":  {"email": "not-an-email"},
			"username":   {"username": "x"},
			"empty call": {},
		} {
			err := e.s.AdminUpdateUserAttributes(e.ctx, p.ID, "ann@example.net", attrs)
			want := identity.CodeInvalidParameter
			if name == "clash" {
				want = identity.CodeAliasExists
			}
			if identity.ErrorCode(err) != want {
				t.Errorf("%s: %v, want %s", name, err, want)
			}
		}
		if after, _ := e.st.GetUser(e.ctx, p.ID, ann.Sub); after.Email != "ann@example.net" || after.Attributes["custom:origin"] != "import" {
			t.Errorf("failed updates changed the user: %+v", after)
		}

		// Delete attributes.
		if err := e.s.AdminDeleteUserAttributes(e.ctx, p.ID, "ann@example.net", []string{"name", "custom:team"}); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.st.GetUser(e.ctx, p.ID, ann.Sub); got.Attributes["name"] != "" {
			t.Errorf("name not deleted: %v", got.Attributes)
		}
		for _, names := range [][]string{{"email"}, {"custom:tenant"}, {"custom:origin"}, {"shoe_size"}, {"sub"}, nil} {
			err := e.s.AdminDeleteUserAttributes(e.ctx, p.ID, "ann@example.net", names)
			admWantCode(t, err, identity.CodeInvalidParameter)
		}
	})
}

func TestAdminDeleteEmailInUsernamePool(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias })
		u := e.user(p, "carol", map[string]string{"email": "c@example.com", "email_verified": "true"})
		// The verified email is an alias for sign-in and admin lookups.
		if v, err := e.s.AdminGetUser(e.ctx, p.ID, "C@example.com"); err != nil || v.User.Sub != u.Sub {
			t.Fatalf("lookup by alias: %v", err)
		}
		if err := e.s.AdminDeleteUserAttributes(e.ctx, p.ID, "carol", []string{"email"}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.st.GetUser(e.ctx, p.ID, u.Sub)
		if got.Email != "" || got.EmailVerified || got.Username != "carol" {
			t.Errorf("after deleting email: %+v", got)
		}
		admWantCode(t, e.s.AdminResetUserPassword(e.ctx, p.ID, "carol"), identity.CodeInvalidParameter)
		if got2, _ := e.st.GetUser(e.ctx, p.ID, u.Sub); got2.Status != got.Status {
			t.Errorf("failed reset changed status to %s", got2.Status)
		}
	})
}
