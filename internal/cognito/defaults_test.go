package cognito_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"
)

// transcript collects one line per call ("case: <exception>: <message>",
// or "case: ok ...") and compares them with a golden file in testdata/.
type transcript struct {
	t     *testing.T
	lines []string
}

func (tr *transcript) add(name string, err error, ok string) {
	tr.t.Helper()
	if err == nil {
		tr.lines = append(tr.lines, name+": ok "+ok)
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		tr.t.Fatalf("%s: not an API error: %v", name, err)
	}
	tr.lines = append(tr.lines, name+": "+ae.ErrorCode()+": "+ae.ErrorMessage())
}

func (tr *transcript) check(file string) {
	tr.t.Helper()
	got := []byte(strings.Join(tr.lines, "\n") + "\n")
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tr.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tr.t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		tr.t.Errorf("transcript differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// createPool creates a pool through CreateUserPool with nothing but in,
// and a client allowing passwords, admin passwords and refresh.
func (e *env) createPool(in *cip.CreateUserPoolInput) (poolID, clientID string) {
	e.t.Helper()
	p, err := e.admin.CreateUserPool(ctx, in)
	if err != nil {
		e.t.Fatalf("CreateUserPool: %v", err)
	}
	c, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: p.UserPool.Id, ClientName: aws.String("app"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		e.t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return *p.UserPool.Id, *c.UserPoolClient.ClientId
}

// TestCognitoDefaultsAndUsernames: a pool made by CreateUserPool with no
// settings behaves as Cognito's does (plain usernames, a UUID or an email
// as a username, no email required, Cognito's password policy and
// messages, RS256 tokens), and each of the three username configurations
// refuses what Cognito refuses with Cognito's words
// (testdata/usernames.golden).
func TestCognitoDefaultsAndUsernames(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}

	// The default pool: neither UsernameAttributes nor AliasAttributes.
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("plain")})
	d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)}))
	pp := d.UserPool.Policies.PasswordPolicy
	tr.add("default pool", nil, fmt.Sprintf("UsernameAttributes=%v AliasAttributes=%v MinimumLength=%d upper=%t lower=%t numbers=%t symbols=%t temporary=%d",
		d.UserPool.UsernameAttributes, d.UserPool.AliasAttributes, *pp.MinimumLength, pp.RequireUppercase, pp.RequireLowercase,
		pp.RequireNumbers, pp.RequireSymbols, pp.TemporaryPasswordValidityDays))

	signUp := func(name, client, username, pw string, attrs ...string) *cip.SignUpOutput {
		in := &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String(username), Password: aws.String(pw)}
		for i := 0; i+1 < len(attrs); i += 2 {
			in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
		}
		out, err := e.public.SignUp(ctx, in)
		ok := ""
		if err == nil {
			ok = fmt.Sprintf("confirmed=%t code=%t", out.UserConfirmed, out.CodeDeliveryDetails != nil)
		}
		tr.add(name, err, ok)
		return out
	}
	for _, c := range []struct{ name, pw string }{
		{"password too short", "Ab1!xyz"},
		{"password without upper case", "abcdefg1!"},
		{"password without lower case", "ABCDEFG1!"},
		{"password without number", "Abcdefgh!"},
		{"password without symbol", "Abcdefgh1"},
	} {
		signUp(c.name, clientID, "someone", c.pw)
	}

	// A UUID username (what AWS-verified tests sign up), no email at all.
	id := uuid.NewString()
	su := signUp("plain: uuid username without email", clientID, id, "Passw0rd!")
	must[*cip.AdminConfirmSignUpOutput](t)(e.admin.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(poolID), Username: aws.String(id)}))
	auth := e.signIn(clientID, id, "Passw0rd!")
	header, _, _ := strings.Cut(*auth.IdToken, ".")
	hb, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg string }
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	tr.add("plain: uuid user signs in", nil, "alg="+h.Alg)
	// An email-shaped username is only a username here; the email
	// attribute is another value.
	signUp("plain: email-shaped username", clientID, "ann@example.org", "Passw0rd!", "email", "other@example.org")
	signUp("plain: same username again", clientID, "ann@example.org", "Passw0rd!")
	// A username that is another user's sub would answer for both users.
	signUp("plain: username equal to a sub", clientID, *su.UserSub, "Passw0rd!")
	signUp("plain: username with a space", clientID, "ann smith", "Passw0rd!")
	_, err = e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(uuid.NewString()),
		MessageAction: types.MessageActionTypeSuppress})
	tr.add("plain: AdminCreateUser uuid without email", err, "")

	// Email as an alias: an email-shaped username is refused, a UUID is not.
	_, aliasClient := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("alias"),
		AliasAttributes: []types.AliasAttributeType{types.AliasAttributeTypeEmail}})
	signUp("alias: email-shaped username", aliasClient, "bob@example.org", "Passw0rd!", "email", "bob@example.org")
	signUp("alias: uuid username", aliasClient, uuid.NewString(), "Passw0rd!", "email", "carol@example.org")

	// Email as the username.
	_, emailClient := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("email"),
		UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}})
	signUp("email: plain username", emailClient, "dave", "Passw0rd!")
	signUp("email: uuid username", emailClient, uuid.NewString(), "Passw0rd!")
	signUp("email: email username", emailClient, "dave@example.org", "Passw0rd!")

	// Messages of refusals Cognito words its own way.
	for _, f := range []string{`custom:foo = "x"`, `email = x`, `email ~ "x"`} {
		_, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID), Filter: aws.String(f)})
		tr.add("ListUsers filter "+f, err, "")
	}
	_, err = e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String("not-a-token")})
	tr.add("GetUser with a bad access token", err, "")
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String("nosuchclient"), Username: aws.String(id)})
	tr.add("ForgotPassword with an unknown client", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserSrpAuth,
		AuthParameters: map[string]string{"USERNAME": id, "SRP_A": "abc"}})
	tr.add("InitiateAuth with a flow the client does not allow", err, "")

	tr.check("usernames.golden")
}
