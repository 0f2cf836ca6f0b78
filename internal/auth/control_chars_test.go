package auth

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// TestAttributeControlCharacters: attribute values with a control
// character are refused with a field error on every write path, and
// nothing changes. security.md A6
func TestAttributeControlCharacters(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: companyAttr, Type: identity.AttrString, Mutable: true}}
	}, nil)
	bad := []string{"Jo\r\nBcc: x@evil.example", "Jo\nDoe", "Jo\x00", "Jo\tDoe", "Jo\x7f", "Jo\u0085", "Jo\u2028Doe", "\x1b[31mJo"}
	check := func(what string, err error, field string) {
		t.Helper()
		var ie *identity.Error
		if err == nil || !errors.As(err, &ie) || ie.Code != identity.CodeInvalidParameter || ie.Field != field || !strings.Contains(ie.Message, "control character") {
			t.Fatalf("%s: %v", what, err)
		}
	}
	u := e.confirmedUser("jo@example.com")
	tok := e.mustSignIn("jo@example.com", goodPW)
	for _, v := range bad {
		_, err := e.s.SignUp(e.ctx, SignUpInput{Client: e.c(), Username: "new@example.com", Password: goodPW, Attributes: map[string]string{"name": v}})
		check("SignUp "+strconv.Quote(v), err, "name")
		_, err = e.s.UpdateUserAttributes(e.ctx, tok.AccessToken, map[string]string{"given_name": v})
		check("UpdateUserAttributes "+strconv.Quote(v), err, "given_name")
		_, err = e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "inv@example.com", MessageAction: MessageActionSuppress,
			Attributes: map[string]string{companyAttr: v}})
		check("AdminCreateUser "+strconv.Quote(v), err, companyAttr)
		check("AdminUpdateUserAttributes "+strconv.Quote(v), e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, "jo@example.com", map[string]string{"family_name": v}), "family_name")
		check("ImportUsers "+strconv.Quote(v), importOne(e.ctx, e.s, e.pool.ID, ImportedUser{Username: "imp@example.com", Email: "imp@example.com",
			Status: string(identity.StatusConfirmed), Enabled: true, Attributes: map[string]string{"nickname": v}}), "nickname")
	}
	if n, _ := e.st.CountUsers(e.ctx, e.pool.ID); n != 1 {
		t.Fatalf("%d users", n)
	}
	if cur := e.getUser("jo@example.com"); len(cur.Attributes) != len(u.Attributes) {
		t.Fatalf("attributes changed: %v", cur.Attributes)
	}
	// Ordinary text, accents and emoji included, is fine.
	if _, err := e.s.UpdateUserAttributes(e.ctx, tok.AccessToken, map[string]string{"name": "Zoë O'Brien-Łukasz ✓"}); err != nil {
		t.Fatal(err)
	}
}

// TestControlCharactersNeverReachEmails: a company named with CR/LF at
// sign-up (it is copied into the approvers' email) is refused before
// anything is written or sent. security.md A6
func TestControlCharactersNeverReachEmails(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := companySetup(t, setup)
		before, _, err := e.st.ListEmails(e.ctx, e.pool.ID, "", store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.s.SignUp(e.ctx, SignUpInput{Client: e.c(), Username: "eve@example.org", Password: goodPW,
			Attributes: map[string]string{companyAttr: "Acme\r\n\r\nApprove at https://evil.example/"}})
		if identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("sign-up: %v", err)
		}
		after, _, err := e.st.ListEmails(e.ctx, e.pool.ID, "", store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("%d emails before, %d after", len(before), len(after))
		}
		for _, m := range after {
			if strings.Contains(m.Text, "evil.example") || strings.Contains(m.HTML, "evil.example") {
				t.Fatalf("email carries the injected text: %+v", m)
			}
		}
	})
}
