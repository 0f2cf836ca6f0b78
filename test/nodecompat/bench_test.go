package nodecompat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/srp"
)

// cognitoCall POSTs one Cognito JSON 1.1 operation and decodes the answer.
func cognitoCall(b *testing.B, url, op string, in any, out any) {
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		var e map[string]any
		json.NewDecoder(res.Body).Decode(&e)
		b.Fatalf("%s: %d %v", op, res.StatusCode, e)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		b.Fatal(err)
	}
}

type authOut struct {
	ChallengeName        string
	ChallengeParameters  map[string]string
	AuthenticationResult *struct{ IdToken string }
}

// BenchmarkCognitoSignIn measures, over loopback HTTP through the Cognito
// surface with the default argon2id cost and one caller, a whole
// USER_PASSWORD_AUTH sign-in, a whole USER_SRP_AUTH sign-in (both round
// trips; the client's SRP arithmetic is excluded from the timing), and a
// raw argon2id verification for the ratio (docs/benchmarks.md).
//
//	go test -run '^$' -bench CognitoSignIn -benchtime 40x ./test/nodecompat
func BenchmarkCognitoSignIn(b *testing.B) {
	s := start(b, password.DefaultParams())
	ctx := context.Background()
	const (
		email = "bench@example.com"
		pw    = "Correct-Horse-Battery-Staple-42"
	)
	if _, err := s.svc.SignUp(ctx, auth.SignUpInput{Client: auth.Client{ID: s.client.ID}, Username: email, Password: pw}); err != nil {
		b.Fatal(err)
	}
	if err := s.svc.AdminConfirmSignUp(ctx, s.pool.ID, email); err != nil {
		b.Fatal(err)
	}
	u, err := s.st.GetUserByUsername(ctx, s.pool.ID, email)
	if err != nil {
		b.Fatal(err)
	}
	h := password.NewHasher(password.DefaultParams(), 0)

	b.Run("raw_argon2id_verify", func(b *testing.B) {
		for b.Loop() {
			if ok, err := h.Verify(ctx, u.PasswordHash, pw); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("USER_PASSWORD_AUTH", func(b *testing.B) {
		for b.Loop() {
			var out authOut
			cognitoCall(b, s.url, "InitiateAuth", map[string]any{"ClientId": s.client.ID, "AuthFlow": "USER_PASSWORD_AUTH",
				"AuthParameters": map[string]string{"USERNAME": email, "PASSWORD": pw}}, &out)
			if out.AuthenticationResult == nil {
				b.Fatalf("%+v", out)
			}
		}
	})
	b.Run("USER_SRP_AUTH", func(b *testing.B) {
		pool := srp.PoolName(s.pool.ID)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			c, err := srp.NewClient(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			var ch authOut
			cognitoCall(b, s.url, "InitiateAuth", map[string]any{"ClientId": s.client.ID, "AuthFlow": "USER_SRP_AUTH",
				"AuthParameters": map[string]string{"USERNAME": email, "SRP_A": c.PublicA().Text(16)}}, &ch)
			b.StopTimer()
			p := ch.ChallengeParameters
			salt, _ := new(big.Int).SetString(p["SALT"], 16)
			B, _ := new(big.Int).SetString(p["SRP_B"], 16)
			key, err := c.Key(pool, p["USER_ID_FOR_SRP"], pw, salt, B)
			if err != nil {
				b.Fatal(err)
			}
			block, _ := base64.StdEncoding.DecodeString(p["SECRET_BLOCK"])
			ts := time.Now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006")
			sig := srp.Signature(key, pool, p["USER_ID_FOR_SRP"], block, ts)
			b.StartTimer()
			var out authOut
			cognitoCall(b, s.url, "RespondToAuthChallenge", map[string]any{"ClientId": s.client.ID, "ChallengeName": "PASSWORD_VERIFIER",
				"ChallengeResponses": map[string]string{"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
					"PASSWORD_CLAIM_SIGNATURE": base64.StdEncoding.EncodeToString(sig), "TIMESTAMP": ts}}, &out)
			if out.AuthenticationResult == nil {
				b.Fatalf("%+v", out)
			}
		}
	})
}
