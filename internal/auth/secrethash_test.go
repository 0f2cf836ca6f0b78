package auth

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestSecretHash(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	cc, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: e.pool.ID, Name: "backend", GenerateSecret: true,
		AuthFlows: []string{identity.FlowUserPassword, identity.FlowUserSRP}})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := cc.Client.ID, cc.Secret
	if cc.Client.SecretSealed == "" {
		t.Fatal("no sealed secret stored")
	}
	const email = "sec@example.com"
	// SignUp and sign-in with SECRET_HASH.
	if _, err := e.s.SignUp(e.ctx, SignUpInput{Client: Client{ID: id, SecretHash: SecretHash(secret, email, id)}, Username: email, Password: goodPW}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AdminConfirmSignUp(e.ctx, e.pool.ID, email); err != nil {
		t.Fatal(err)
	}
	signIn := func(c Client, username string) error {
		_, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: c, Flow: AuthUserPassword, Username: username, Password: goodPW})
		return err
	}
	if err := signIn(Client{ID: id, SecretHash: SecretHash(secret, email, id)}, email); err != nil {
		t.Fatalf("right SECRET_HASH: %v", err)
	}
	// The native API's raw secret still works.
	if err := signIn(Client{ID: id, Secret: secret}, email); err != nil {
		t.Fatalf("raw secret: %v", err)
	}
	bad := "Unable to verify secret hash for client " + id
	for name, c := range map[string]Client{
		"hash for another user":   {ID: id, SecretHash: SecretHash(secret, "other@example.com", id)},
		"hash with wrong secret":  {ID: id, SecretHash: SecretHash(secret+"x", email, id)},
		"hash for another client": {ID: id, SecretHash: SecretHash(secret, email, e.client.ID)},
		"not base64":              {ID: id, SecretHash: "%%%"},
		"too long":                {ID: id, SecretHash: SecretHash(secret, email, id) + string(make([]byte, 200))},
	} {
		err := signIn(c, email)
		if identity.ErrorCode(err) != identity.CodeNotAuthorized || identity.ErrorMessage(err) != bad {
			t.Errorf("%s: %v", name, err)
		}
	}
	wantErr(t, signIn(Client{ID: id}, email), identity.CodeNotAuthorized, "Client "+id+" is configured with a secret but none was received.")

	// SRP's second round carries SECRET_HASH for USER_ID_FOR_SRP (the sub).
	u := e.getUser(email)
	c, ch, err := e.srpRound1(Client{ID: id, SecretHash: SecretHash(secret, email, id)}, email)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.srpRound2(Client{ID: id, SecretHash: SecretHash(secret, u.Sub, id)}, e.srpProof(c, ch, goodPW, srpTimestamp(e.now())))
	if err != nil || r.Tokens == nil {
		t.Fatalf("SRP with SECRET_HASH: %+v %v", r, err)
	}

	// A regenerated secret replaces the sealed copy: the old one stops working.
	rc, err := e.s.RegenerateClientSecret(e.ctx, e.pool.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := signIn(Client{ID: id, SecretHash: SecretHash(rc.Secret, email, id)}, email); err != nil {
		t.Fatalf("new secret: %v", err)
	}
	wantErr(t, signIn(Client{ID: id, SecretHash: SecretHash(secret, email, id)}, email), identity.CodeNotAuthorized, bad)

	// A client whose secret predates sealed copies cannot check SECRET_HASH.
	old, err := e.st.GetClient(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	old.SecretSealed = ""
	if err := e.st.UpdateClient(e.ctx, old); err != nil {
		t.Fatal(err)
	}
	err = signIn(Client{ID: id, SecretHash: SecretHash(rc.Secret, email, id)}, email)
	if identity.ErrorCode(err) != identity.CodeNotAuthorized || identity.ErrorMessage(err) == bad {
		t.Fatalf("old client: %v", err)
	}
	// UpdateClient keeps the sealed secret.
	cur, _ := e.s.RegenerateClientSecret(e.ctx, e.pool.ID, id)
	upd := *cur.Client
	upd.Name = "renamed"
	if _, err := e.s.UpdateClient(e.ctx, &upd); err != nil {
		t.Fatal(err)
	}
	if err := signIn(Client{ID: id, SecretHash: SecretHash(cur.Secret, email, id)}, email); err != nil {
		t.Fatalf("after UpdateClient: %v", err)
	}
}

// TestSecretHashKnownValue pins SecretHash to a value computed independently
// (Python: base64(hmac.new(b"secret", b"aliceclient1", sha256).digest())).
func TestSecretHashKnownValue(t *testing.T) {
	t.Parallel()
	if got, want := SecretHash("secret", "alice", "client1"), "1f+jIZ5jrvd9T9LKNEBwDVXuGhIxTem62DTEPkKb29k="; got != want {
		t.Fatalf("SecretHash = %s, want %s", got, want)
	}
}
