package cognito_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestRefreshTokenRotation pins, through the AWS SDK for Go, Cognito's
// RefreshTokenRotation per app client (testdata/rotation.golden):
//
//   - a client made by CreateUserPoolClient without it is DISABLED: every
//     refresh path (InitiateAuth and AdminInitiateAuth REFRESH_TOKEN_AUTH,
//     GetTokensFromRefreshToken) returns new ID and access tokens and no
//     refresh token, and the same refresh token keeps working (moto's
//     AWS-verified test_initiate_auth_REFRESH_TOKEN refreshes twice);
//   - ENABLED: GetTokensFromRefreshToken rotates; the rotated-out token
//     works again within RetryGracePeriodSeconds (and only then); after it,
//     presenting it ends the sign-in, the successor included (Gatehouse's
//     reuse detection); REFRESH_TOKEN_AUTH is refused, as AWS documents;
//   - the setting's validation errors, exception names and messages, and
//     UpdateUserPoolClient resetting an omitted setting to DISABLED;
//   - a refresh token of client A is refused to client B of the same pool
//     and to a client of another pool;
//   - the revocations still end a non-rotating token: RevokeToken,
//     GlobalSignOut, AdminUserGlobalSignOut, a password reset,
//     AdminDisableUser (forgetting a device: devices_test.go).
func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	// The service's clock stands still but for skew, so the grace period
	// is measured exactly, however slow the machine.
	base := time.Now()
	var skew atomic.Int64
	e := setup(t, setupOpts{svcNow: func() time.Time { return base.Add(time.Duration(skew.Load())) }})
	tr := &transcript{t: t}
	poolID, clientA := e.newPool("rotation")
	const ann = "ann@example.com"
	e.signUpConfirmed(poolID, clientA, ann)
	names := map[string]string{clientA: "<client A>"}

	describe := func(name, clientID string) {
		d, err := e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
		if err != nil {
			tr.add(name, err, "")
			return
		}
		r := d.UserPoolClient.RefreshTokenRotation
		if r == nil {
			tr.add(name, nil, "RefreshTokenRotation absent")
			return
		}
		tr.add(name, nil, fmt.Sprintf("Feature=%s RetryGracePeriodSeconds=%d", r.Feature, aws.ToInt32(r.RetryGracePeriodSeconds)))
	}
	result := func(a *types.AuthenticationResultType) string {
		return fmt.Sprintf("tokens=%t refresh token=%t", a.AccessToken != nil && a.IdToken != nil, a.RefreshToken != nil)
	}
	viaInitiate := func(name, clientID, rt string) {
		r, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			AuthParameters: map[string]string{"REFRESH_TOKEN": rt}})
		if err != nil {
			tr.add(name, err, "")
			return
		}
		tr.add(name, nil, result(r.AuthenticationResult))
	}
	viaAdmin := func(name, clientID, rt string) {
		r, err := e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
			AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": rt}})
		if err != nil {
			tr.add(name, err, "")
			return
		}
		tr.add(name, nil, result(r.AuthenticationResult))
	}
	// viaGet refreshes with GetTokensFromRefreshToken and returns the new
	// refresh token ("" when none).
	viaGet := func(name, clientID, rt string) string {
		r, err := e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID), RefreshToken: aws.String(rt)})
		if err != nil {
			tr.add(name, err, "")
			return ""
		}
		a := r.AuthenticationResult
		same := ""
		if a.RefreshToken != nil && *a.RefreshToken == rt {
			same = " (the same one)"
		}
		tr.add(name, nil, result(a)+same)
		return aws.ToString(a.RefreshToken)
	}

	// DISABLED, Cognito's default: one refresh token, used again and again.
	describe("DescribeUserPoolClient of a client made without RefreshTokenRotation", clientA)
	rtA := *e.signIn(clientA, ann, goodPassword).RefreshToken
	viaInitiate("DISABLED: InitiateAuth REFRESH_TOKEN_AUTH", clientA, rtA)
	viaInitiate("DISABLED: InitiateAuth REFRESH_TOKEN_AUTH again with the same token", clientA, rtA)
	r, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientA), AuthFlow: types.AuthFlowTypeRefreshToken,
		AuthParameters: map[string]string{"REFRESH_TOKEN": rtA}})
	if err == nil {
		tr.add("DISABLED: InitiateAuth REFRESH_TOKEN (legacy name)", nil, result(r.AuthenticationResult))
	} else {
		tr.add("DISABLED: InitiateAuth REFRESH_TOKEN (legacy name)", err, "")
	}
	viaAdmin("DISABLED: AdminInitiateAuth REFRESH_TOKEN_AUTH", clientA, rtA)
	viaGet("DISABLED: GetTokensFromRefreshToken", clientA, rtA)
	viaGet("DISABLED: GetTokensFromRefreshToken again", clientA, rtA)

	// Another client of the pool, and a client of another pool.
	b := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientName: aws.String("b"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}))
	clientB := *b.UserPoolClient.ClientId
	names[clientB] = "<client B>"
	_, otherClient := e.newPool("rotation-other")
	names[otherClient] = "<client of another pool>"
	viaInitiate("client A's token refreshed as client B", clientB, rtA)
	viaGet("client A's token refreshed as client B (GetTokensFromRefreshToken)", clientB, rtA)
	viaInitiate("client A's token refreshed as a client of another pool", otherClient, rtA)
	viaGet("client A's token still works for client A", clientA, rtA)

	// ENABLED with a grace period.
	c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientName: aws.String("rotating"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(10)}}))
	clientC := *c.UserPoolClient.ClientId
	names[clientC] = "<client C>"
	tr.add("CreateUserPoolClient with ENABLED and a 10 s grace period", nil, fmt.Sprintf("Feature=%s RetryGracePeriodSeconds=%d",
		c.UserPoolClient.RefreshTokenRotation.Feature, aws.ToInt32(c.UserPoolClient.RefreshTokenRotation.RetryGracePeriodSeconds)))
	describe("DescribeUserPoolClient of the ENABLED client", clientC)
	rt0 := *e.signIn(clientC, ann, goodPassword).RefreshToken
	viaInitiate("ENABLED: InitiateAuth REFRESH_TOKEN_AUTH", clientC, rt0)
	viaAdmin("ENABLED: AdminInitiateAuth REFRESH_TOKEN_AUTH", clientC, rt0)
	rt1 := viaGet("ENABLED: GetTokensFromRefreshToken", clientC, rt0)
	skew.Store(int64(5 * time.Second))
	rt1b := viaGet("ENABLED: the rotated-out token again 5 s later (within the grace period)", clientC, rt0)
	if rt1 == "" || rt1b == "" || rt1 == rt1b {
		t.Fatalf("grace period: successors %q and %q", rt1, rt1b)
	}
	rt2 := viaGet("ENABLED: the successor rotates in turn", clientC, rt1)
	skew.Store(int64(11 * time.Second))
	viaGet("ENABLED: the rotated-out token 11 s after its first use (grace period over)", clientC, rt0)
	viaGet("ENABLED: the newest successor after that reuse", clientC, rt2)
	viaGet("ENABLED: the grace-period successor after that reuse", clientC, rt1b)
	skew.Store(0)

	// ENABLED without ALLOW_REFRESH_TOKEN_AUTH (what AWS tells rotating
	// clients to do): GetTokensFromRefreshToken still refreshes; on a
	// client that does not rotate the flow stays required.
	must[*cip.UpdateUserPoolClientOutput](t)(e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientId: aws.String(clientC), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth},
		RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled}}))
	rt0 = *e.signIn(clientC, ann, goodPassword).RefreshToken
	viaGet("ENABLED without ALLOW_REFRESH_TOKEN_AUTH: GetTokensFromRefreshToken", clientC, rt0)
	viaInitiate("ENABLED without ALLOW_REFRESH_TOKEN_AUTH: InitiateAuth REFRESH_TOKEN_AUTH", clientC, rt0)
	must[*cip.UpdateUserPoolClientOutput](t)(e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientId: aws.String(clientC), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth}}))
	viaGet("DISABLED without ALLOW_REFRESH_TOKEN_AUTH: GetTokensFromRefreshToken", clientC, *e.signIn(clientC, ann, goodPassword).RefreshToken)

	// ENABLED without a grace period: a second use is reuse at once.
	u := must[*cip.UpdateUserPoolClientOutput](t)(e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientId: aws.String(clientC), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}, RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled}}))
	tr.add("UpdateUserPoolClient to ENABLED without RetryGracePeriodSeconds", nil, fmt.Sprintf("Feature=%s RetryGracePeriodSeconds=%d",
		u.UserPoolClient.RefreshTokenRotation.Feature, aws.ToInt32(u.UserPoolClient.RefreshTokenRotation.RetryGracePeriodSeconds)))
	rt0 = *e.signIn(clientC, ann, goodPassword).RefreshToken
	rt1 = viaGet("ENABLED, no grace: GetTokensFromRefreshToken", clientC, rt0)
	viaGet("ENABLED, no grace: the rotated-out token again", clientC, rt0)
	viaGet("ENABLED, no grace: its successor after that reuse", clientC, rt1)

	// An update that leaves RefreshTokenRotation out resets it, as every
	// omitted setting of UpdateUserPoolClient.
	must[*cip.UpdateUserPoolClientOutput](t)(e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientId: aws.String(clientC), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}))
	describe("DescribeUserPoolClient after UpdateUserPoolClient without RefreshTokenRotation", clientC)
	// A token rotated out while the client rotated stays used up.
	rt0 = *e.signIn(clientC, ann, goodPassword).RefreshToken
	viaInitiate("DISABLED again: a fresh token", clientC, rt0)
	viaGet("DISABLED again: the same token", clientC, rt0)

	// A client made by Gatehouse's own API: rotation with reuse detection
	// on every path, REFRESH_TOKEN_AUTH included (shown as ENABLED).
	nc, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: poolID, Name: "native",
		AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	names[nc.Client.ID] = "<native client>"
	describe("DescribeUserPoolClient of a client made by the native API", nc.Client.ID)
	rtN := *e.signIn(nc.Client.ID, ann, goodPassword).RefreshToken
	viaInitiate("native client: InitiateAuth REFRESH_TOKEN_AUTH", nc.Client.ID, rtN)
	viaInitiate("native client: the rotated-out token again", nc.Client.ID, rtN)

	// Validation: through the SDK, and raw JSON for what the SDK refuses
	// to send (a missing Feature).
	for _, v := range []struct {
		name string
		r    *types.RefreshTokenRotationType
	}{
		{"Feature SOMETIMES", &types.RefreshTokenRotationType{Feature: "SOMETIMES"}},
		{"RetryGracePeriodSeconds 61", &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(61)}},
		{"RetryGracePeriodSeconds -1", &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(-1)}},
	} {
		_, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("bad"),
			RefreshTokenRotation: v.r})
		tr.add("CreateUserPoolClient with "+v.name, err, "")
		_, err = e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientB),
			RefreshTokenRotation: v.r})
		tr.add("UpdateUserPoolClient with "+v.name, err, "")
	}
	body, _ := json.Marshal(map[string]any{"UserPoolId": poolID, "ClientName": "bad", "RefreshTokenRotation": map[string]any{"RetryGracePeriodSeconds": 5}})
	st, _, out := e.signed("CreateUserPoolClient", string(body), keyID, keySecret, "cognito-idp", time.Now(), nil)
	tr.lines = append(tr.lines, fmt.Sprintf("CreateUserPoolClient without Feature: %d %s", st, strings.TrimSpace(out)))
	off := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("off"),
		RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeDisabled, RetryGracePeriodSeconds: aws.Int32(30)}}))
	describe("DescribeUserPoolClient of a client made DISABLED with a grace period (kept, unused)", *off.UserPoolClient.ClientId)
	describe("DescribeUserPoolClient of client B (unchanged by the refused updates)", clientB)

	// Revocations end a non-rotating token exactly as before.
	revoked := func(name string, end func(rt string, a *types.AuthenticationResultType)) {
		a := e.signIn(clientA, ann, goodPassword)
		viaGet(name+": before", clientA, *a.RefreshToken)
		end(*a.RefreshToken, a)
		viaGet(name+": after", clientA, *a.RefreshToken)
		viaInitiate(name+": after (InitiateAuth)", clientA, *a.RefreshToken)
	}
	revoked("RevokeToken", func(rt string, _ *types.AuthenticationResultType) {
		must[*cip.RevokeTokenOutput](t)(e.public.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(clientA), Token: aws.String(rt)}))
	})
	revoked("GlobalSignOut", func(_ string, a *types.AuthenticationResultType) {
		must[*cip.GlobalSignOutOutput](t)(e.public.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: a.AccessToken}))
	})
	revoked("AdminUserGlobalSignOut", func(string, *types.AuthenticationResultType) {
		must[*cip.AdminUserGlobalSignOutOutput](t)(e.admin.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(poolID), Username: aws.String(ann)}))
	})
	revoked("ConfirmForgotPassword", func(string, *types.AuthenticationResultType) {
		must[*cip.ForgotPasswordOutput](t)(e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientA), Username: aws.String(ann)}))
		must[*cip.ConfirmForgotPasswordOutput](t)(e.public.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(clientA),
			Username: aws.String(ann), ConfirmationCode: aws.String(e.lastCode(poolID, ann)), Password: aws.String(goodPassword)}))
	})
	a := e.signIn(clientA, ann, goodPassword)
	must[*cip.AdminDisableUserOutput](t)(e.admin.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(poolID), Username: aws.String(ann)}))
	viaGet("AdminDisableUser: after", clientA, *a.RefreshToken)
	must[*cip.AdminEnableUserOutput](t)(e.admin.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(poolID), Username: aws.String(ann)}))
	viaGet("AdminEnableUser: a token of before the disabling", clientA, *a.RefreshToken)

	for i := range tr.lines {
		for id, n := range names {
			tr.lines[i] = strings.ReplaceAll(tr.lines[i], id, n)
		}
	}
	tr.check("rotation.golden")
}

// TestRefreshGraceConcurrentRetries: a client that sends one refresh token
// several times at once (retries before the first answer came) gets tokens
// for every attempt when its client has a retry grace period — the losers
// of the rotation's compare-and-set are retries, not theft — and each gets
// its own new refresh token; without a grace period exactly one wins and
// the sign-in ends, as before.
func TestRefreshGraceConcurrentRetries(t *testing.T) {
	t.Parallel()
	base := time.Now()
	e := setup(t, setupOpts{svcNow: func() time.Time { return base }})
	poolID, _ := e.newPool("grace-race")
	const ann = "ann@example.com"
	for _, grace := range []int32{10, 0} {
		c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID),
			ClientName: aws.String(fmt.Sprintf("grace-%d", grace)), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
				types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
			RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(grace)}}))
		clientID := *c.UserPoolClient.ClientId
		if grace == 10 {
			e.signUpConfirmed(poolID, clientID, ann)
		}
		rt := *e.signIn(clientID, ann, goodPassword).RefreshToken
		const n = 8
		var wg sync.WaitGroup
		got := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID), RefreshToken: aws.String(rt)})
				if errs[i] = err; err == nil {
					got[i] = aws.ToString(r.AuthenticationResult.RefreshToken)
				}
			}()
		}
		wg.Wait()
		okN, distinct := 0, map[string]bool{}
		for i := range n {
			if errs[i] == nil {
				okN++
				distinct[got[i]] = true
			} else if errCode(errs[i]) != "NotAuthorizedException" {
				t.Fatalf("grace %d: attempt %d: %v", grace, i, errs[i])
			}
		}
		switch grace {
		case 10:
			if okN != n || len(distinct) != n || distinct[""] {
				t.Fatalf("grace 10: %d of %d attempts got tokens, %d distinct refresh tokens; want all, each its own", okN, n, len(distinct))
			}
			for tok := range distinct { // every successor is live
				must[*cip.GetTokensFromRefreshTokenOutput](t)(e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID), RefreshToken: aws.String(tok)}))
			}
		case 0:
			if okN > 1 {
				t.Fatalf("grace 0: %d concurrent uses of one token got tokens, want at most 1", okN)
			}
			for i := range n { // the sign-in ended: no successor works
				if errs[i] == nil {
					_, err := e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID), RefreshToken: aws.String(got[i])})
					wantErr(t, err, "NotAuthorizedException")
				}
			}
		}
	}
}
