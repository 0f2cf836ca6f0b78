package auth

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// companyEnv is an approval pool (every member joins "Users") with two
// companies: Acme (approver ada@acme.example) and Globex (approver
// gus@globex.example). gil@globex.example signed up naming Globex, was
// approved, and is signed in.
type companyEnv struct {
	*userEnv
	ada, gus, gil *identity.User
	gilTokens     *Tokens
}

const companyAttr = "custom:company_name"

func companySetup(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) *companyEnv {
	t.Helper()
	e := &companyEnv{userEnv: setup(func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: companyAttr, Type: identity.AttrString, Mutable: true},
			{Name: "custom:team", Type: identity.AttrString, Mutable: true}}
	}, nil)}
	p, err := e.s.GetPool(e.ctx, e.pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.SignUp.DefaultGroups = []string{"Users"}
	p.Settings.SignUp.Approval = &identity.ApprovalPolicy{}
	if e.pool, err = e.s.UpdatePool(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	admin := func(email string) *identity.User {
		v, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: email,
			Attributes: map[string]string{"email_verified": "true"}, MessageAction: MessageActionSuppress})
		if err != nil {
			t.Fatalf("AdminCreateUser(%s): %v", email, err)
		}
		if err := e.s.AdminSetUserPassword(e.ctx, e.pool.ID, email, goodPW, true); err != nil {
			t.Fatal(err)
		}
		return v.User
	}
	e.ada, e.gus = admin("ada@acme.example"), admin("gus@globex.example")
	for _, c := range []*identity.Company{
		{PoolID: e.pool.ID, Name: "Acme", EmailDomains: []string{"acme.example"}, Approvers: []identity.Approver{{Sub: e.ada.Sub}}},
		{PoolID: e.pool.ID, Name: "Globex", EmailDomains: []string{"globex.example"}, Approvers: []identity.Approver{{Sub: e.gus.Sub}}},
	} {
		if _, err := e.s.CreateCompany(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	e.gil = e.approvedMember("gil@globex.example", "Globex")
	e.gilTokens = e.mustSignIn("gil@globex.example", goodPW)
	return e
}

// approvedMember signs email up naming company, confirms the code and
// approves the request as a pool admin.
func (e *companyEnv) approvedMember(email, company string) *identity.User {
	e.t.Helper()
	e.signUp(email, map[string]string{companyAttr: company})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: email, Code: e.lastCode(email, TemplateSignUpCode)}); err != nil {
		e.t.Fatalf("ConfirmSignUp(%s): %v", email, err)
	}
	u := e.getUser(email)
	r, err := e.st.GetRegistrationByUser(e.ctx, e.pool.ID, u.Sub)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.s.DecideRegistration(e.ctx, e.pool.ID, r.ID, identity.DecisionApprove, "", RequestMeta{}); err != nil {
		e.t.Fatalf("approve %s: %v", email, err)
	}
	return e.getUser(email)
}

// groupsOf lists the user's group names, sorted.
func (e *userEnv) groupsOf(username string) []string {
	e.t.Helper()
	u := e.getUser(username)
	gs, err := e.st.ListGroupsForUser(e.ctx, e.pool.ID, u.Sub)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return out
}

// idCompany returns the company claim of a fresh ID token of the user
// (refreshed from rt), and whether it is present.
func (e *userEnv) idCompany(rt string) (string, bool) {
	e.t.Helper()
	r, err := e.refresh(rt)
	if err != nil || r.Tokens == nil {
		e.t.Fatalf("refresh: %+v %v", r, err)
	}
	v, ok := claimsOf(e.t.(*testing.T), r.Tokens.IDToken)[companyAttr]
	s, _ := v.(string)
	return s, ok
}

// TestCompanyJumpRefused: an approved Globex member cannot move into Acme
// by changing or deleting the company attribute on their own; the
// attribute, the groups and the tokens stay Globex, and Acme's company
// admin gets no hold on them. security.md A1
func TestCompanyJumpRefused(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := companySetup(t, setup)
		if e.gil.Attributes[companyAttr] != "Globex" || !reflect.DeepEqual(e.groupsOf("gil@globex.example"), []string{"Globex", "Users"}) {
			t.Fatalf("approved member %+v %v", e.gil.Attributes, e.groupsOf("gil@globex.example"))
		}
		const msg = "A client attempted to write unauthorized attribute " + companyAttr + "."
		for _, attrs := range []map[string]string{
			{companyAttr: "Acme"},
			{companyAttr: "Acme", "name": "Gil"},
			{companyAttr: "Globex"}, // even its current value: the attribute is not the user's to write
			{companyAttr: ""},
		} {
			_, err := e.s.UpdateUserAttributes(e.ctx, e.gilTokens.AccessToken, attrs)
			wantErr(t, err, identity.CodeNotAuthorized, msg)
		}
		wantErr(t, e.s.DeleteUserAttributes(e.ctx, e.gilTokens.AccessToken, []string{companyAttr}), identity.CodeNotAuthorized, msg)

		u := e.getUser("gil@globex.example")
		if u.Attributes[companyAttr] != "Globex" || u.Attributes["name"] != "" {
			t.Fatalf("attributes after the attempts: %v", u.Attributes)
		}
		if g := e.groupsOf("gil@globex.example"); !reflect.DeepEqual(g, []string{"Globex", "Users"}) {
			t.Fatalf("groups after the attempts: %v", g)
		}
		if c, _ := e.idCompany(e.gilTokens.RefreshToken); c != "Globex" {
			t.Fatalf("ID token company %q", c)
		}
		adaCtx, _, err := e.s.ConsoleSignIn(e.ctx, e.pool.ID, e.ada.Sub, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.ConsoleGetUser(adaCtx, e.pool.ID, "gil@globex.example"); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("Acme's admin reads gil: %v", err)
		}
		// Other attributes stay the user's to change.
		if _, err := e.s.UpdateUserAttributes(e.ctx, e.gilTokens.AccessToken, map[string]string{"custom:team": "red"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClientCannotWriteCompany: the company attribute is in no app
// client's write attributes. security.md A1
func TestClientCannotWriteCompany(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: companyAttr, Type: identity.AttrString, Mutable: true}}
	}, nil)
	_, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: e.pool.ID, Name: "c", WriteAttributes: []string{"name", companyAttr}})
	if ie := admWantCode(t, err, identity.CodeInvalidParameter); ie.Field != "write_attributes" || !strings.Contains(ie.Message, companyAttr) {
		t.Fatalf("create: %+v", ie)
	}
	cl := *e.client
	cl.WriteAttributes = []string{companyAttr}
	_, err = e.s.UpdateClient(e.ctx, &cl)
	admWantCode(t, err, identity.CodeInvalidParameter)
	if got, _ := e.st.GetClient(e.ctx, e.client.ID); len(got.WriteAttributes) != 0 {
		t.Fatalf("client changed: %v", got.WriteAttributes)
	}
}

// TestSignUpCompanyIsOnlyARequest: the company named at sign-up is the
// request the approvers decide on; it is not stored on the user, and it
// never reaches a token unless an approval or the email's domain proves
// it. security.md A2
func TestSignUpCompanyIsOnlyARequest(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := companySetup(t, setup)
		// Pending: the request names Acme, the user has no company.
		e.signUp("max@example.org", map[string]string{companyAttr: "Acme"})
		if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "max@example.org", Code: e.lastCode("max@example.org", TemplateSignUpCode)}); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		max := e.getUser("max@example.org")
		r, err := e.st.GetRegistrationByUser(e.ctx, e.pool.ID, max.Sub)
		if err != nil || r.CompanyName != "Acme" || r.Company != "Acme" {
			t.Fatalf("request %+v %v", r, err)
		}
		if _, ok := max.Attributes[companyAttr]; ok {
			t.Fatalf("pending applicant holds the company: %v", max.Attributes)
		}

		// An open pool: the company typed at sign-up is dropped; a domain
		// that a company owns proves it.
		p, _ := e.s.GetPool(e.ctx, e.pool.ID)
		p.Settings.SignUp.Approval = nil
		p.Settings.SignUp.Domains = []identity.DomainRule{{Domain: "acme.example", Company: "Acme"}}
		if e.pool, err = e.s.UpdatePool(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		for email, want := range map[string]string{"mal@example.org": "", "ann@acme.example": "Acme"} {
			e.signUp(email, map[string]string{companyAttr: "Acme"})
			if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: email, Code: e.lastCode(email, TemplateSignUpCode)}); err != nil {
				t.Fatal(err)
			}
			u := e.getUser(email)
			tok := e.mustSignIn(email, goodPW)
			c, ok := e.idCompany(tok.RefreshToken)
			groups := e.groupsOf(email)
			if want == "" && (u.Attributes[companyAttr] != "" || ok || !reflect.DeepEqual(groups, []string{"Users"})) {
				t.Fatalf("%s: attribute %q, token %q, groups %v", email, u.Attributes[companyAttr], c, groups)
			}
			if want != "" && (u.Attributes[companyAttr] != want || c != want || !reflect.DeepEqual(groups, []string{"Acme", "Users"})) {
				t.Fatalf("%s: attribute %q, token %q, groups %v", email, u.Attributes[companyAttr], c, groups)
			}
		}
	})
}

// TestAdminMovesCompany: a pool admin moves a member to another company:
// the attribute, the old and the new company group change in one
// transaction, audited; a company admin may not. security.md A3
func TestAdminMovesCompany(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := companySetup(t, setup)
		const gil = "gil@globex.example"
		// A company admin has no admin write, even through the service.
		gusCtx, _, err := e.s.ConsoleSignIn(e.ctx, e.pool.ID, e.gus.Sub, "")
		if err != nil {
			t.Fatal(err)
		}
		admWantCode(t, e.s.AdminUpdateUserAttributes(gusCtx, e.pool.ID, gil, map[string]string{companyAttr: "Acme"}), identity.CodeForbidden)
		admWantCode(t, e.s.AdminDeleteUserAttributes(gusCtx, e.pool.ID, gil, []string{companyAttr}), identity.CodeForbidden)

		// The name is taken as the company spells it.
		if err := e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, gil, map[string]string{companyAttr: "acme"}); err != nil {
			t.Fatal(err)
		}
		if u := e.getUser(gil); u.Attributes[companyAttr] != "Acme" {
			t.Fatalf("attribute %v", u.Attributes)
		}
		if g := e.groupsOf(gil); !reflect.DeepEqual(g, []string{"Acme", "Users"}) {
			t.Fatalf("groups after the move %v", g)
		}
		if c, _ := e.idCompany(e.gilTokens.RefreshToken); c != "Acme" {
			t.Fatalf("token company %q", c)
		}
		evs, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{PoolID: e.pool.ID, Action: "user.company_move"}, store.Page{Limit: 10})
		if err != nil || len(evs) != 1 || evs[0].Detail["from"] != "Globex" || evs[0].Detail["to"] != "Acme" || evs[0].Subject != "user:"+e.gil.Sub {
			t.Fatalf("audit %+v %v", evs, err)
		}
		// A name no company has: the attribute says so, no company group.
		if err := e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, gil, map[string]string{companyAttr: "Initech"}); err != nil {
			t.Fatal(err)
		}
		if u, g := e.getUser(gil), e.groupsOf(gil); u.Attributes[companyAttr] != "Initech" || !reflect.DeepEqual(g, []string{"Users"}) {
			t.Fatalf("moved to Initech: %v %v", u.Attributes, g)
		}
		// Back to Globex, then out of every company.
		if err := e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, gil, map[string]string{companyAttr: "Globex"}); err != nil {
			t.Fatal(err)
		}
		if g := e.groupsOf(gil); !reflect.DeepEqual(g, []string{"Globex", "Users"}) {
			t.Fatalf("back to Globex: %v", g)
		}
		if err := e.s.AdminDeleteUserAttributes(e.ctx, e.pool.ID, gil, []string{companyAttr}); err != nil {
			t.Fatal(err)
		}
		if u, g := e.getUser(gil), e.groupsOf(gil); u.Attributes[companyAttr] != "" || !reflect.DeepEqual(g, []string{"Users"}) {
			t.Fatalf("out of Globex: %v %v", u.Attributes, g)
		}
	})
}

// TestActivationGroupsAlike: a member invited by an admin with a company
// gets the same groups as one whose request was approved, whichever way
// they became active. security.md A4
func TestActivationGroupsAlike(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := companySetup(t, setup)
		want := []string{"Globex", "Users"}
		if g := e.groupsOf("gil@globex.example"); !reflect.DeepEqual(g, want) {
			t.Fatalf("approved: %v", g)
		}
		// Invited (AdminCreateUser), spelling the company loosely.
		v, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "ivy@example.org",
			Attributes: map[string]string{companyAttr: "globex"}, MessageAction: MessageActionSuppress})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(v.Groups)
		if !reflect.DeepEqual(v.Groups, want) || v.User.Attributes[companyAttr] != "Globex" {
			t.Fatalf("invited: %v %v", v.Groups, v.User.Attributes)
		}
		// Confirmed by an admin (which approves the request).
		e.signUp("ole@example.org", map[string]string{companyAttr: "Globex"})
		if err := e.s.AdminConfirmSignUp(e.ctx, e.pool.ID, "ole@example.org"); err != nil {
			t.Fatal(err)
		}
		if g, u := e.groupsOf("ole@example.org"), e.getUser("ole@example.org"); !reflect.DeepEqual(g, want) || u.Attributes[companyAttr] != "Globex" {
			t.Fatalf("admin-confirmed: %v %v", g, u.Attributes)
		}
		// Auto-approved by the company's domain.
		p, _ := e.s.GetPool(e.ctx, e.pool.ID)
		p.Settings.SignUp.Approval.AutoApproveCompanyDomain = true
		if e.pool, err = e.s.UpdatePool(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		e.signUp("gwen@globex.example", map[string]string{companyAttr: "Globex"})
		if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "gwen@globex.example", Code: e.lastCode("gwen@globex.example", TemplateSignUpCode)}); err != nil {
			t.Fatal(err)
		}
		if g := e.groupsOf("gwen@globex.example"); !reflect.DeepEqual(g, want) {
			t.Fatalf("auto-approved: %v", g)
		}
		// Invited with a company that does not exist: the admin's word is
		// kept, no company group.
		v, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "ned@example.org",
			Attributes: map[string]string{companyAttr: "Initech"}, MessageAction: MessageActionSuppress})
		if err != nil || !reflect.DeepEqual(v.Groups, []string{"Users"}) || v.User.Attributes[companyAttr] != "Initech" {
			t.Fatalf("invited to Initech: %+v %v", v, err)
		}
	})
}
