package auth

import (
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// consoleFixture: a pool with the company attribute; root in Admins,
// carol approving for acme, ann (acme) and zed (globex) members, nobody.
func consoleFixture(t *testing.T, e *adminEnv) (*identity.Pool, map[string]*identity.User) {
	t.Helper()
	p := e.pool(func(in *CreatePoolInput) {
		in.UsernameMode = identity.UsernameEmail
		in.Schema = []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}
	})
	us := map[string]*identity.User{}
	for name, co := range map[string]string{"root": "", "carol": "acme", "ann": "acme", "zed": "globex", "nobody": ""} {
		attrs := map[string]string{"email": name + "@example.org", "email_verified": "true"}
		if co != "" {
			attrs["custom:company_name"] = co
		}
		us[name] = e.user(p, name+"@example.org", attrs)
		if err := e.s.AdminSetUserPassword(e.ctx, p.ID, name+"@example.org", "correct horse battery staple 42", true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: p.ID, Name: "Admins"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AdminAddUserToGroup(e.ctx, p.ID, "root@example.org", "Admins"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*identity.Company{
		{PoolID: p.ID, Name: "acme", Approvers: []identity.Approver{{Sub: us["carol"].Sub}}},
		{PoolID: p.ID, Name: "globex", Approvers: []identity.Approver{{Email: "boss@globex.example"}}},
	} {
		if _, err := e.s.CreateCompany(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// The companies came after the users: an admin's write puts the
	// members in their company's group (security.md A3).
	for name, co := range map[string]string{"carol": "acme", "ann": "acme", "zed": "globex"} {
		if err := e.s.AdminUpdateUserAttributes(e.ctx, p.ID, name+"@example.org", map[string]string{"custom:company_name": co}); err != nil {
			t.Fatal(err)
		}
	}
	return p, us
}

// TestConsoleRoles: who gets which console role, what a company admin may
// reach, and that losing the admin group ends pool-admin rights at once.
// security.md R1, R4
func TestConsoleRoles(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us := consoleFixture(t, e)
		rootCtx, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["root"].Sub, "192.0.2.1")
		if err != nil || !role.PoolAdmin || identity.ActorFrom(rootCtx).ID != ConsoleActorPrefix+us["root"].Sub {
			t.Fatalf("root: %+v %v %v", role, identity.ActorFrom(rootCtx), err)
		}
		carolCtx, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["carol"].Sub, "")
		if err != nil || role.PoolAdmin || len(role.Companies) != 1 || role.Companies[0].Name != "acme" ||
			identity.ActorFrom(carolCtx).ID != "user:"+us["carol"].Sub {
			t.Fatalf("carol: %+v %v", role, err)
		}
		for _, who := range []string{"nobody", "ann"} {
			if _, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us[who].Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("%s: %v", who, err)
			}
		}
		if _, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, "no-such-sub", ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("unknown sub: %v", err)
		}

		// Company admins act on their members only.
		if err := e.s.ConsoleUserAction(carolCtx, p.ID, "ann@example.org", ConsoleDisable); err != nil {
			t.Fatalf("carol disables ann: %v", err)
		}
		if v, _ := e.s.AdminGetUser(e.ctx, p.ID, "ann@example.org"); v.User.Enabled {
			t.Fatal("ann still enabled")
		}
		for _, target := range []string{"zed@example.org", "root@example.org", "nobody@example.org"} {
			if err := e.s.ConsoleUserAction(carolCtx, p.ID, target, ConsoleSignOut); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("carol on %s: %v", target, err)
			}
			if _, err := e.s.ConsoleGetUser(carolCtx, p.ID, target); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("carol reads %s: %v", target, err)
			}
		}
		if err := e.s.ConsoleUserAction(carolCtx, p.ID, "carol@example.org", ConsoleDelete); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("carol deletes herself: %v", err)
		}
		if err := e.s.ConsoleUserAction(rootCtx, p.ID, "zed@example.org", "explode"); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("unknown action: %v", err)
		}
		if err := e.s.ConsoleUserAction(rootCtx, p.ID, "zed@example.org", ConsoleResetPassword); err != nil {
			t.Fatalf("root resets zed: %v", err)
		}
		if _, _, err := e.s.ConsoleEmails(carolCtx, p.ID, "", 0, ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("carol reads the outbox: %v", err)
		}
		if _, _, err := e.s.ConsoleCompanyMembers(carolCtx, p.ID, "globex", 0, ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("carol lists globex: %v", err)
		}
		if d, err := e.s.ConsoleDashboard(carolCtx, p.ID, 7); err != nil || d.SignInFailures != nil || len(d.Days) != 7 {
			t.Fatalf("carol's dashboard: %+v %v", d, err)
		}

		// The audit event of carol's action names her.
		evs, _, err := e.s.ConsoleAudit(rootCtx, ConsoleAuditQuery{AuditQuery: AuditQuery{PoolID: p.ID, Action: "admin.user_disable"}})
		if err != nil || len(evs) != 1 || evs[0].Actor != "user:"+us["carol"].Sub {
			t.Fatalf("audit: %+v %v", evs, err)
		}

		// Leaving the admin group ends pool-admin rights on the next check,
		// even for a context made before.
		if err := e.s.RequirePoolAdmin(rootCtx, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.AdminRemoveUserFromGroup(e.ctx, p.ID, "root@example.org", "Admins"); err != nil {
			t.Fatal(err)
		}
		if err := e.s.RequirePoolAdmin(rootCtx, p.ID); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("removed admin: %v", err)
		}
		if err := e.s.ConsoleUserAction(rootCtx, p.ID, "zed@example.org", ConsoleEnable); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("removed admin acts: %v", err)
		}

		// console.admin_group names another group.
		if _, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: p.ID, Name: "Operators"}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.AdminAddUserToGroup(e.ctx, p.ID, "nobody@example.org", "Operators"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["nobody"].Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("Operators before the setting: %v", err)
		}
		p.Settings.Console.AdminGroup = "Operators"
		if _, err := e.s.UpdatePool(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["nobody"].Sub, ""); err != nil || !role.PoolAdmin {
			t.Fatalf("Operators after the setting: %+v %v", role, err)
		}
		got, _ := e.s.GetPool(e.ctx, p.ID)
		if got.Settings.Console.AdminGroupName() != "Operators" {
			t.Fatalf("setting not stored: %+v", got.Settings.Console)
		}
		// A disabled pool admin is nobody.
		if err := e.s.AdminDisableUser(e.ctx, p.ID, "nobody@example.org"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["nobody"].Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden || !strings.Contains(identity.ErrorMessage(err), "console") {
			t.Fatalf("disabled admin: %v", err)
		}
	})
}
