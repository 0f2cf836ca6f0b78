package auth

import (
	"context"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// rolesFixture: root is a pool admin (in Admins) and an Acme member; ada
// and abe approve for Acme; gus approves for Globex but is an Acme member;
// ann is a plain Acme member; out is a member of no company. Each user
// has a permanent password. It returns ada's console context.
func rolesFixture(t *testing.T, e *adminEnv, more ...func(*CreatePoolInput)) (*identity.Pool, map[string]*identity.User, context.Context) {
	t.Helper()
	p := e.pool(func(in *CreatePoolInput) {
		in.UsernameMode = identity.UsernameEmail
		in.Schema = []identity.AttributeDef{{Name: companyAttr, Type: identity.AttrString, Mutable: true}}
		for _, f := range more {
			f(in)
		}
	})
	for _, c := range []string{"Acme", "Globex"} {
		if _, err := e.s.CreateCompany(e.ctx, &identity.Company{PoolID: p.ID, Name: c}); err != nil {
			t.Fatal(err)
		}
	}
	us := map[string]*identity.User{}
	for _, name := range []string{"root", "ada", "abe", "gus", "ann", "out"} {
		attrs := map[string]string{"email_verified": "true"}
		if name != "out" {
			attrs[companyAttr] = "Acme"
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
	for name, approvers := range map[string][]string{"Acme": {"ada", "abe"}, "Globex": {"gus"}} {
		c, err := e.s.GetCompany(e.ctx, p.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range approvers {
			c.Approvers = append(c.Approvers, identity.Approver{Sub: us[a].Sub})
		}
		if _, err := e.s.UpdateCompany(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	adaCtx, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["ada"].Sub, "")
	if err != nil || role.PoolAdmin {
		t.Fatalf("ada: %+v %v", role, err)
	}
	return p, us, adaCtx
}

// TestCompanyAdminCannotReachUp: a company admin acts on plain members of
// their company only: never on a pool admin, a company admin of another
// company, or a peer approver of their own, whatever the action, even
// when those are members of the company. Refused actions change nothing.
// security.md R2, R3
func TestCompanyAdminCannotReachUp(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us, adaCtx := rolesFixture(t, e)
		actions := []string{ConsoleDisable, ConsoleEnable, ConsoleResetPassword, ConsoleSignOut, ConsoleDelete}
		for _, target := range []string{"root", "gus", "abe"} {
			before, err := e.st.GetUser(e.ctx, p.ID, us[target].Sub)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range actions {
				err := e.s.ConsoleUserAction(adaCtx, p.ID, target+"@example.org", a)
				if identity.ErrorCode(err) != identity.CodeForbidden {
					t.Fatalf("ada %s %s: %v", a, target, err)
				}
			}
			u, err := e.st.GetUser(e.ctx, p.ID, us[target].Sub)
			if err != nil || !u.Enabled || u.Status != identity.StatusConfirmed || !u.TokensValidAfter.Equal(before.TokensValidAfter) {
				t.Fatalf("%s changed: %+v %v", target, u, err)
			}
		}
		// Out of her companies: forbidden too; viewing a member is fine.
		if err := e.s.ConsoleUserAction(adaCtx, p.ID, "out@example.org", ConsoleSignOut); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("ada on out: %v", err)
		}
		for _, target := range []string{"root", "abe", "ann"} {
			if _, err := e.s.ConsoleGetUser(adaCtx, p.ID, target+"@example.org"); err != nil {
				t.Fatalf("ada reads %s: %v", target, err)
			}
		}
		// A plain member: every action.
		for _, a := range actions {
			if err := e.s.ConsoleUserAction(adaCtx, p.ID, "ann@example.org", a); err != nil {
				t.Fatalf("ada %s ann: %v", a, err)
			}
		}
		// Herself: not disable or delete.
		for _, a := range []string{ConsoleSignOut, ConsoleResetPassword} {
			if err := e.s.ConsoleUserAction(adaCtx, p.ID, "ada@example.org", a); err != nil {
				t.Fatalf("ada %s herself: %v", a, err)
			}
		}
		if err := e.s.ConsoleUserAction(adaCtx, p.ID, "ada@example.org", ConsoleDisable); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("ada disables herself: %v", err)
		}
		// A member whose attribute names Acme but who is not in Acme's
		// group (a value no approval or admin move put there) is not hers.
		if err := e.st.RemoveUserFromGroup(e.ctx, p.ID, us["out"].Sub, "Acme"); err != nil {
			t.Fatal(err)
		}
		out, _ := e.st.GetUser(e.ctx, p.ID, us["out"].Sub)
		out.Attributes = map[string]string{companyAttr: "Acme"}
		if err := e.st.UpdateUser(e.ctx, out, true); err != nil {
			t.Fatal(err)
		}
		if err := e.s.ConsoleUserAction(adaCtx, p.ID, "out@example.org", ConsoleDisable); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("ada on a member by attribute only: %v", err)
		}
		if _, err := e.s.ConsoleGetUser(adaCtx, p.ID, "out@example.org"); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("ada reads a member by attribute only: %v", err)
		}
		// The pool admin may act on anyone.
		rootCtx, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["root"].Sub, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.ConsoleUserAction(rootCtx, p.ID, "abe@example.org", ConsoleSignOut); err != nil {
			t.Fatalf("root signs abe out: %v", err)
		}
	})
}

// TestCompanyAdminNoAdminWrites: the Admin* writes refuse a company admin's
// context in the service, whichever surface calls them; only the console
// actions, checked for the target, go through. security.md R2
func TestCompanyAdminNoAdminWrites(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, _, adaCtx := rolesFixture(t, e)
		const ann = "ann@example.org"
		for name, err := range map[string]error{
			"disable":           e.s.AdminDisableUser(adaCtx, p.ID, ann),
			"enable":            e.s.AdminEnableUser(adaCtx, p.ID, ann),
			"delete":            e.s.AdminDeleteUser(adaCtx, p.ID, ann),
			"reset":             e.s.AdminResetUserPassword(adaCtx, p.ID, ann),
			"sign out":          e.s.AdminUserGlobalSignOut(adaCtx, p.ID, ann),
			"confirm":           e.s.AdminConfirmSignUp(adaCtx, p.ID, ann),
			"set password":      e.s.AdminSetUserPassword(adaCtx, p.ID, ann, "another long pass phrase 77", true),
			"add to group":      e.s.AdminAddUserToGroup(adaCtx, p.ID, ann, "Admins"),
			"remove from group": e.s.AdminRemoveUserFromGroup(adaCtx, p.ID, ann, "Acme"),
			"update attributes": e.s.AdminUpdateUserAttributes(adaCtx, p.ID, ann, map[string]string{"name": "Ann"}),
			"delete attributes": e.s.AdminDeleteUserAttributes(adaCtx, p.ID, ann, []string{companyAttr}),
		} {
			if identity.ErrorCode(err) != identity.CodeForbidden {
				t.Errorf("%s: %v", name, err)
			}
		}
		_, err := e.s.AdminCreateUser(adaCtx, AdminCreateUserInput{PoolID: p.ID, Username: "new@example.org", MessageAction: MessageActionSuppress})
		if identity.ErrorCode(err) != identity.CodeForbidden {
			t.Errorf("create: %v", err)
		}
		if u, _ := e.s.AdminGetUser(e.ctx, p.ID, ann); !u.User.Enabled || len(u.Groups) != 1 {
			t.Fatalf("ann changed: %+v", u)
		}
	})
}

// TestCompanyAdminPeers: a company admin may add approvers but not remove
// a peer (nor themself); a pool admin may. security.md R3
func TestCompanyAdminPeers(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us, adaCtx := rolesFixture(t, e)
		c, err := e.s.GetCompany(adaCtx, p.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		alone := *c
		alone.Approvers = []identity.Approver{{Sub: us["ada"].Sub}}
		if _, err := e.s.UpdateCompany(adaCtx, &alone); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("ada removes abe: %v", err)
		}
		more := *c
		more.Approvers = append(append([]identity.Approver{}, c.Approvers...), identity.Approver{Email: "boss@acme.example"})
		if _, err := e.s.UpdateCompany(adaCtx, &more); err != nil {
			t.Fatalf("ada adds an approver: %v", err)
		}
		if _, err := e.s.UpdateCompany(e.ctx, &alone); err != nil {
			t.Fatalf("a pool admin removes abe: %v", err)
		}
		if got, _ := e.s.GetCompany(e.ctx, p.ID, "Acme"); len(got.Approvers) != 1 {
			t.Fatalf("approvers %+v", got.Approvers)
		}
	})
}
