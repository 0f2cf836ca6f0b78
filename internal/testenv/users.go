package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/srp"
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

// DeviceIP is the client address RememberDevice's sign-in comes from.
const DeviceIP = "198.51.100.9"

// RememberDevice signs username in through the service as a Cognito
// client does (USER_PASSWORD_AUTH with clientID, which must allow it, in
// a pool that tracks devices, from DeviceIP), confirms the device that
// sign-in was issued under name, with a verifier made as
// amazon-cognito-identity-js makes one (a random device password and
// salt), and returns the device key and the sign-in's tokens; pw "" is
// Password.
func (s *Stack) RememberDevice(clientID, username, pw, name string) (string, *auth.Tokens) {
	t := s.T
	t.Helper()
	if pw == "" {
		pw = Password
	}
	ctx := context.Background()
	meta := auth.RequestMeta{IP: DeviceIP, UserAgent: "aws-sdk-js/3 ua/2.1 os/linux"}
	res, err := s.Svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: clientID}, Flow: auth.AuthUserPassword,
		Username: username, Password: pw, Meta: meta})
	if err != nil || res.Tokens == nil || res.NewDevice == nil {
		t.Fatalf("InitiateAuth %s (device): %v %+v", username, err, res)
	}
	secret := make([]byte, 40)
	saltBytes := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	if _, err := rand.Read(saltBytes); err != nil {
		t.Fatal(err)
	}
	salt := new(big.Int).SetBytes(saltBytes)
	v := srp.Verifier(res.NewDevice.DeviceGroupKey, res.NewDevice.DeviceKey, base64.StdEncoding.EncodeToString(secret), salt)
	if _, err := s.Svc.ConfirmDevice(ctx, auth.ConfirmDeviceInput{AccessToken: res.Tokens.AccessToken, DeviceKey: res.NewDevice.DeviceKey,
		DeviceName: name, HasVerifier: true, Meta: meta,
		Salt:             base64.StdEncoding.EncodeToString(srp.PadBytes(salt)),
		PasswordVerifier: base64.StdEncoding.EncodeToString(srp.PadBytes(v))}); err != nil {
		t.Fatalf("ConfirmDevice %s: %v", username, err)
	}
	return res.NewDevice.DeviceKey, res.Tokens
}
