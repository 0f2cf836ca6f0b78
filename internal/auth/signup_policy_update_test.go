package auth

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestUpdateSignUpPolicy: a pool admin replaces the sign-up settings (one
// audit event naming what changed; saving them again writes nothing); a
// company admin, a removed admin and a bad policy change nothing; every
// problem of a bad policy is reported at once, with the list item at fault.
func TestUpdateSignUpPolicy(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, us := consoleFixture(t, e)
		rootCtx, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["root"].Sub, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		carolCtx, _, err := e.s.ConsoleSignIn(e.ctx, p.ID, us["carol"].Sub, "")
		if err != nil {
			t.Fatal(err)
		}
		before, _ := e.s.GetPool(e.ctx, p.ID)

		want := SignUpSettings{AdminCreateUserOnly: true, Policy: identity.SignUpPolicy{
			DomainAllowList: true,
			Domains:         []identity.DomainRule{{Domain: "@Acme.Example ", Group: "acme-staff", Company: "acme"}},
			DefaultGroups:   []string{"everyone"},
			Approval: &identity.ApprovalPolicy{Expiry: 3 * 24 * time.Hour, Reminder: -1, AutoApproveCompanyDomain: true,
				OnDeny: identity.OnDenyDisable, OnNoApprover: identity.NoApproverAdmins, PoolAdmins: []string{"ops@example.org"}},
			CompanyAttribute: "custom:company_name", CompanyLookup: true,
		}}
		// A company admin is refused, and nothing changes.
		if _, _, err := e.s.UpdateSignUpPolicy(carolCtx, p.ID, want); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("company admin: %v", err)
		}
		if got, _ := e.s.GetPool(e.ctx, p.ID); !reflect.DeepEqual(got.Settings.SignUp, before.Settings.SignUp) || got.AdminCreateUserOnly {
			t.Fatalf("changed by a company admin: %+v", got.Settings.SignUp)
		}

		np, changed, err := e.s.UpdateSignUpPolicy(rootCtx, p.ID, want)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.s.GetPool(e.ctx, p.ID)
		if !got.AdminCreateUserOnly || got.Settings.SignUp.Domains[0].Domain != "acme.example" || got.Settings.SignUp.Approval.Reminder != -1 ||
			!reflect.DeepEqual(got.Settings.SignUp, np.Settings.SignUp) || got.Name != before.Name || got.MaxFailedAttempts != before.MaxFailedAttempts {
			t.Fatalf("stored: %+v", got)
		}
		if want.Policy.Domains[0].Domain != "@Acme.Example " {
			t.Fatal("the caller's input was changed")
		}
		evs, _, err := e.s.Audit(e.ctx, AuditQuery{PoolID: p.ID, Action: "pool.update_sign_up_policy"})
		if err != nil || len(evs) != 1 || evs[0].Actor != "user:"+us["root"].Sub || evs[0].Via != identity.ViaConsole || evs[0].IP != "192.0.2.1" ||
			evs[0].Detail["changed"] != "admin_create_user_only,domain_allow_list,domains,default_groups,approval,company_attribute,company_lookup" {
			t.Fatalf("audit: %v %v", evs, err)
		}
		if len(changed) != 7 {
			t.Fatalf("changed: %v", changed)
		}
		// The same settings again: no write, no event.
		if _, changed, err := e.s.UpdateSignUpPolicy(rootCtx, p.ID, SignUpSettingsOf(got)); err != nil || len(changed) != 0 {
			t.Fatal(changed, err)
		}
		if again, _ := e.s.GetPool(e.ctx, p.ID); !again.UpdatedAt.Equal(got.UpdatedAt) {
			t.Fatal("an unchanged policy was written")
		}
		if evs, _, _ := e.s.Audit(e.ctx, AuditQuery{PoolID: p.ID, Action: "pool.update_sign_up_policy"}); len(evs) != 1 {
			t.Fatalf("events after an unchanged save: %d", len(evs))
		}

		// A bad policy: every problem, nothing written.
		bad := SignUpSettings{Policy: identity.SignUpPolicy{
			Domains:       []identity.DomainRule{{Domain: "ok.example", Group: "g"}, {Domain: "not a domain", Group: "g"}, {Domain: "OK.example", Group: "h"}, {Domain: "x.example"}},
			DefaultGroups: []string{"fine", "has space"},
			Approval:      &identity.ApprovalPolicy{Expiry: 400 * 24 * time.Hour, OnDeny: "shred", PoolAdmins: []string{"a@example.org", "nope"}},
		}}
		_, _, err = e.s.UpdateSignUpPolicy(rootCtx, p.ID, bad)
		var errs SignUpPolicyErrors
		if !errors.As(err, &errs) || identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("bad policy: %v", err)
		}
		type fi struct {
			field string
			index int
		}
		var fields []fi
		for _, x := range errs {
			fields = append(fields, fi{x.Err.Field, x.Index})
		}
		wantFields := []fi{{"sign_up.domains", 1}, {"sign_up.domains", 2}, {"sign_up.domains", 3}, {"sign_up.default_groups", 1},
			{"sign_up.approval.on_deny", -1}, {"sign_up.approval.expiry", -1}, {"sign_up.approval.pool_admins", 1}}
		if !reflect.DeepEqual(fields, wantFields) {
			t.Fatalf("problems: %+v", fields)
		}
		if after, _ := e.s.GetPool(e.ctx, p.ID); !reflect.DeepEqual(after, got) {
			t.Fatalf("a bad policy changed the pool")
		}

		// Unique email is UpdatePool's rule: it cannot be turned on in an
		// alias pool with users.
		alias := e.pool(func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias })
		e.user(alias, "someone", map[string]string{"email": "someone@example.org"})
		if _, _, err := e.s.UpdateSignUpPolicy(e.ctx, alias.ID, SignUpSettings{UniqueEmail: true}); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("unique email with users: %v", err)
		}
		if _, _, err := e.s.UpdateSignUpPolicy(e.ctx, "us-east-1_nope", SignUpSettings{}); identity.ErrorCode(err) != identity.CodeResourceNotFound {
			t.Fatalf("no pool: %v", err)
		}

		// Removed from the admin group: refused on the next call.
		if err := e.s.AdminRemoveUserFromGroup(e.ctx, p.ID, "root@example.org", "Admins"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.UpdateSignUpPolicy(rootCtx, p.ID, SignUpSettings{}); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("removed admin: %v", err)
		}
	})
}
