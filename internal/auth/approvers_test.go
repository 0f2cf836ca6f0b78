package auth

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

// Approver status comes from the company's record, which only admins write
// (and the activation of the verified owner of an awaited address): these
// are the attacks on the approvers index (migration 0030). security.md R2.

// TestAwaitingApproverNeedsVerifiedAddress: a user who takes an awaiting
// approver's address without proving it — by changing their own email
// (pending until verified), or by signing up with it and being confirmed
// by an admin without the address verified — does not become the
// company's admin; the owner who proves the address does.
func TestAwaitingApproverNeedsVerifiedAddress(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(func(in *CreatePoolInput) {
			in.UsernameMode = identity.UsernameEmail
			in.Schema = []identity.AttributeDef{{Name: companyAttr, Type: identity.AttrString, Mutable: true}}
		}, nil)
		for name, addr := range map[string]string{"Acme": "alice@acme.example", "Bolt": "bob@bolt.example"} {
			if _, err := e.s.CreateCompany(e.ctx, &identity.Company{PoolID: e.pool.ID, Name: name,
				Approvers: []identity.Approver{{Email: addr, AwaitingAccount: true}}}); err != nil {
				t.Fatal(err)
			}
		}
		stillAwaiting := func(what string) {
			t.Helper()
			c, err := e.s.GetCompany(e.ctx, e.pool.ID, "Acme")
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Approvers) != 1 || c.Approvers[0] != (identity.Approver{Email: "alice@acme.example", AwaitingAccount: true}) {
				t.Fatalf("%s: Acme's approvers became %+v", what, c.Approvers)
			}
			if l, err := e.st.ListCompaniesAwaitingApprover(e.ctx, e.pool.ID, "alice@acme.example"); err != nil || len(l) != 1 {
				t.Fatalf("%s: awaiting index %v %v", what, l, err)
			}
		}
		notAdmin := func(what string, u *identity.User) {
			t.Helper()
			if _, _, err := e.s.ConsoleSignIn(e.ctx, e.pool.ID, u.Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("%s: console sign-in: %v", what, err)
			}
			if l, err := e.st.ListCompaniesApprovedBy(e.ctx, e.pool.ID, u.Sub); err != nil || len(l) != 0 {
				t.Fatalf("%s: approves %v %v", what, l, err)
			}
		}

		// Mallory changes her own email to Alice's: it waits for its code.
		mallory := e.confirmedUser("mallory@example.org")
		tok := e.mustSignIn("mallory@example.org", goodPW)
		if _, err := e.s.UpdateUserAttributes(e.ctx, tok.AccessToken, map[string]string{"email": "ALICE@acme.example"}); err != nil {
			t.Fatalf("mallory's email change: %v", err)
		}
		notAdmin("after mallory's unverified email change", mallory)
		stillAwaiting("after mallory's unverified email change")

		// Eve signs up with Alice's address and never proves it; an admin
		// confirms her (an activation, without a verified address).
		e.signUp("alice@acme.example", nil)
		if err := e.s.AdminConfirmSignUp(e.ctx, e.pool.ID, "alice@acme.example"); err != nil {
			t.Fatal(err)
		}
		eve := e.getUser("alice@acme.example")
		if eve.EmailVerified {
			t.Fatal("the fixture is wrong: an admin's confirmation verified the address")
		}
		notAdmin("after eve's admin confirmation", eve)
		stillAwaiting("after eve's admin confirmation")

		// Bob proves his address with the emailed code: he is Bolt's admin.
		bob := e.confirmedUser("bob@bolt.example")
		ctx, role, err := e.s.ConsoleSignIn(e.ctx, e.pool.ID, bob.Sub, "")
		if err != nil || len(role.Companies) != 1 || role.Companies[0].Name != "Bolt" {
			t.Fatalf("bob after proving his address: %+v %v", role, err)
		}
		if _, err := e.s.GetCompany(ctx, e.pool.ID, "Acme"); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("bob reads Acme: %v", err)
		}
		if l, err := e.st.ListCompaniesAwaitingApprover(e.ctx, e.pool.ID, "bob@bolt.example"); err != nil || len(l) != 0 {
			t.Fatalf("bob's address still awaited: %v %v", l, err)
		}
	})
}

// TestCompanyAdminGetsNothingOfAnother: Acme's admin reads, writes and
// lists nothing of Globex, cannot make themself Globex's approver, and
// the refused writes leave the approvers index as it was.
func TestCompanyAdminGetsNothingOfAnother(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us, adaCtx := rolesFixture(t, e)
		forbidden := func(what string, err error) {
			t.Helper()
			if identity.ErrorCode(err) != identity.CodeForbidden {
				t.Fatalf("%s: %v, want forbidden", what, err)
			}
		}
		_, err := e.s.GetCompany(adaCtx, p.ID, "Globex")
		forbidden("read Globex", err)
		globex, err := e.s.GetCompany(e.ctx, p.ID, "Globex")
		if err != nil {
			t.Fatal(err)
		}
		take := *globex
		take.Approvers = append(slices.Clone(globex.Approvers), identity.Approver{Sub: us["ada"].Sub})
		_, err = e.s.UpdateCompany(adaCtx, &take)
		forbidden("add herself to Globex", err)
		_, _, err = e.s.ListRegistrations(adaCtx, p.ID, RegistrationFilter{Company: "Globex"}, 10, "")
		forbidden("list Globex's requests", err)
		_, _, err = e.s.ConsoleCompanyMembers(adaCtx, p.ID, "Globex", 10, "")
		forbidden("list Globex's members", err)
		err = e.s.ConsoleUserAction(adaCtx, p.ID, "gus@example.org", ConsoleSignOut)
		forbidden("act on Globex's admin", err)
		list, _, err := e.s.ListCompanies(adaCtx, p.ID, 0, "")
		if err != nil || len(list) != 1 || list[0].Name != "Acme" {
			t.Fatalf("ada's companies: %v %v", list, err)
		}
		if l, err := e.st.ListCompaniesApprovedBy(e.ctx, p.ID, us["ada"].Sub); err != nil || len(l) != 1 || l[0].Name != "Acme" {
			t.Fatalf("ada in the index after refused writes: %v %v", l, err)
		}
		// The console's role lists Acme alone.
		if _, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["ada"].Sub, ""); err != nil || len(role.Companies) != 1 || role.Companies[0].Name != "Acme" {
			t.Fatalf("ada's role: %+v %v", role, err)
		}
	})
}

// TestRemovedApproverRefusedAtOnce: once a pool admin removes an approver
// (or deletes the company), the console refuses them on the next request,
// even with a context made before.
func TestRemovedApproverRefusedAtOnce(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us, adaCtx := rolesFixture(t, e)
		if _, err := e.s.ConsoleGetUser(adaCtx, p.ID, "ann@example.org"); err != nil {
			t.Fatalf("before the removal: %v", err)
		}
		acme, err := e.s.GetCompany(e.ctx, p.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		acme.Approvers = []identity.Approver{{Sub: us["abe"].Sub}}
		if _, err := e.s.UpdateCompany(e.ctx, acme); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["ada"].Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("ada signs in to the console after her removal: %v", err)
		}
		for what, err := range map[string]error{
			"read ann":    func() error { _, err := e.s.ConsoleGetUser(adaCtx, p.ID, "ann@example.org"); return err }(),
			"disable ann": e.s.ConsoleUserAction(adaCtx, p.ID, "ann@example.org", ConsoleDisable),
			"read Acme":   func() error { _, err := e.s.GetCompany(adaCtx, p.ID, "Acme"); return err }(),
			"dashboard":   func() error { _, err := e.s.ConsoleDashboard(adaCtx, p.ID, 7); return err }(),
			"requests": func() error {
				_, _, err := e.s.ListRegistrations(adaCtx, p.ID, RegistrationFilter{}, 10, "")
				return err
			}(),
		} {
			if c := identity.ErrorCode(err); c != identity.CodeForbidden && c != identity.CodeInvalidParameter {
				t.Errorf("ada's old context, %s: %v", what, err)
			}
		}
		if v, _ := e.s.AdminGetUser(e.ctx, p.ID, "ann@example.org"); !v.User.Enabled {
			t.Fatal("ann was disabled by a removed approver")
		}
		if list, _, err := e.s.ListCompanies(adaCtx, p.ID, 0, ""); err != nil || len(list) != 0 {
			t.Fatalf("ada's companies after her removal: %v %v", list, err)
		}
		if _, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["abe"].Sub, ""); err != nil || len(role.Companies) != 1 {
			t.Fatalf("abe, still an approver: %+v %v", role, err)
		}

		// A deleted company takes its admins' role with it.
		if err := e.s.DeleteCompany(e.ctx, p.ID, "Globex"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["gus"].Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("gus after Globex's deletion: %v", err)
		}
	})
}

// TestApproversBeyondTenThousandCompanies: in a pool of 10,050 companies
// (a store fixture: sqlstore.Populate, one company per user), a company
// admin of the company that comes last by name is one (the console's
// role, the target check), an awaited address of the one before it is
// linked on activation, and a company provider cannot hand out the last
// company's group. Before the index these loops read the first 10,000
// companies by name and stopped: the admin had no company, the address
// was never linked.
func TestApproversBeyondTenThousandCompanies(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(func(in *CreatePoolInput) {
			in.UsernameMode = identity.UsernameEmail
			in.Schema = []identity.AttributeDef{{Name: companyAttr, Type: identity.AttrString, Mutable: true}}
		})
		const n = 10050
		db, ok := e.st.(*sqlstore.DB)
		if !ok {
			t.Fatalf("store is a %T", e.st)
		}
		if err := db.Populate(e.ctx, sqlstore.PopulateOptions{PoolID: p.ID, Users: n, PerCompany: 1, PasswordHash: "x", Now: e.now()}); err != nil {
			t.Fatal(err)
		}
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("co%d", i)
		}
		slices.Sort(names) // name_key order, the order the old loops read in
		last, before := names[n-1], names[n-2]
		var all []string
		for tok := ""; ; {
			list, next, err := e.st.ListCompanies(e.ctx, p.ID, store.Page{Limit: 1000, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				all = append(all, c.Name)
			}
			if tok = next; next == "" {
				break
			}
		}
		if i := slices.Index(all, before); len(all) != n || i < 10000 {
			t.Fatalf("the fixture is wrong: %d companies, %s at %d", len(all), before, i)
		}

		carol := e.user(p, "carol@example.org", map[string]string{"email_verified": "true"})
		if err := e.s.AdminSetUserPassword(e.ctx, p.ID, "carol@example.org", "correct horse battery staple 42", true); err != nil {
			t.Fatal(err)
		}
		for name, a := range map[string]identity.Approver{last: {Sub: carol.Sub}, before: {Email: "dora@example.org", AwaitingAccount: true}} {
			c, err := e.s.GetCompany(e.ctx, p.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			c.Approvers = []identity.Approver{a}
			if _, err := e.s.UpdateCompany(e.ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		_, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, carol.Sub, "")
		if err != nil || len(role.Companies) != 1 || role.Companies[0].Name != last {
			t.Fatalf("carol, admin of %s: %+v %v", last, role, err)
		}
		if ok, err := approvesAny(e.ctx, e.st, p.ID, carol.Sub); err != nil || !ok {
			t.Fatalf("approvesAny(carol) = %v %v", ok, err)
		}

		dora := e.user(p, "dora@example.org", map[string]string{"email_verified": "true"})
		c, err := e.s.GetCompany(e.ctx, p.ID, before)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Approvers) != 1 || c.Approvers[0] != (identity.Approver{Sub: dora.Sub}) {
			t.Fatalf("%s's approvers after dora's activation: %+v", before, c.Approvers)
		}

		other, err := otherCompanysGroup(e.ctx, e.st, p, c, last)
		if err != nil || !other {
			t.Fatalf("the group of %s, seen from %s: %v %v", last, before, other, err)
		}
		if other, err := otherCompanysGroup(e.ctx, e.st, p, c, before); err != nil || other {
			t.Fatalf("%s's own group: %v %v", before, other, err)
		}
	})
}

// TestDeletedApproverSubGivesNothing: the attack of an admin's import that
// keeps subs (users import, a migration from Cognito). Ada approves for
// Acme; an admin deletes her account; a user imported later with her sub
// gets no console, no company and no member of Acme, and Acme's record no
// longer names her (before, the sub stayed in the record and the new user
// was Acme's admin at once).
func TestDeletedApproverSubGivesNothing(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us, _ := rolesFixture(t, e)
		ada := us["ada"]
		if _, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, ada.Sub, ""); err != nil || len(role.Companies) != 1 {
			t.Fatalf("ada before: %+v %v", role, err)
		}
		if err := e.s.AdminDeleteUser(e.ctx, p.ID, "ada@example.org"); err != nil {
			t.Fatal(err)
		}
		acme, err := e.s.GetCompany(e.ctx, p.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acme.Approvers {
			if a.Sub == ada.Sub {
				t.Fatalf("Acme still names the deleted ada: %+v", acme.Approvers)
			}
		}
		hash, err := e.hash.Hash(e.ctx, "some-long-passphrase")
		if err != nil {
			t.Fatal(err)
		}
		if err := importOne(e.ctx, e.s, p.ID, ImportedUser{Sub: ada.Sub, Username: "mallory@example.org", Email: "mallory@example.org",
			Status: "CONFIRMED", Enabled: true, EmailVerified: true, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		if u, err := e.st.GetUser(e.ctx, p.ID, ada.Sub); err != nil || u.Status != identity.StatusConfirmed || u.Username != "mallory@example.org" {
			t.Fatalf("the import with ada's sub: %+v %v", u, err)
		}
		if _, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, ada.Sub, ""); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("the user imported with ada's sub signs in to the console: %+v %v", role, err)
		}
		if _, role, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["abe"].Sub, ""); err != nil || len(role.Companies) != 1 {
			t.Fatalf("abe, still an approver: %+v %v", role, err)
		}
	})
}
