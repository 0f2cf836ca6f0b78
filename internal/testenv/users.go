package testenv

import (
	"context"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// CreateUser creates a confirmed user in the stack's pool (no email is
// sent), sets the permanent password, adds the groups, and returns the
// user's sub (also kept in s.Subs).
func (s *Stack) CreateUser(u User) string {
	t := s.T
	t.Helper()
	ctx := context.Background()
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	if _, ok := attrs["email"]; !ok && strings.Contains(u.Username, "@") {
		attrs["email"] = u.Username
	}
	if _, ok := attrs["email_verified"]; !ok && attrs["email"] != "" {
		attrs["email_verified"] = "true"
	}
	v, err := s.Svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: s.Pool.ID, Username: u.Username,
		Attributes: attrs, MessageAction: auth.MessageActionSuppress})
	if err != nil {
		t.Fatalf("AdminCreateUser %s: %v", u.Username, err)
	}
	pw := u.Password
	if pw == "" {
		pw = Password
	}
	if err := s.Svc.AdminSetUserPassword(ctx, s.Pool.ID, u.Username, pw, true); err != nil {
		t.Fatalf("AdminSetUserPassword %s: %v", u.Username, err)
	}
	for _, g := range u.Groups {
		if err := s.Svc.AdminAddUserToGroup(ctx, s.Pool.ID, u.Username, g); err != nil {
			t.Fatalf("AdminAddUserToGroup %s %s: %v", u.Username, g, err)
		}
	}
	s.Subs[u.Username] = v.User.Sub
	return v.User.Sub
}

// SignIn signs username in through the service (USER_PASSWORD_AUTH with
// clientID, which must allow it) and returns the tokens; pw "" is
// Password.
func (s *Stack) SignIn(clientID, username, pw string) *auth.Tokens {
	t := s.T
	t.Helper()
	if pw == "" {
		pw = Password
	}
	res, err := s.Svc.InitiateAuth(context.Background(), auth.InitiateAuthInput{
		Client: auth.Client{ID: clientID}, Flow: auth.AuthUserPassword, Username: username, Password: pw,
	})
	if err != nil || res.Tokens == nil {
		t.Fatalf("InitiateAuth %s: %v %+v", username, err, res)
	}
	return res.Tokens
}
