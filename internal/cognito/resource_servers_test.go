package cognito_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// testResourceServers walks the resource server operations, a client
// granted one of their scopes, and the bad input Cognito refuses.
func testResourceServers(t *testing.T, e *env) {
	poolID, _ := e.newPool("apis")
	pid := aws.String(poolID)
	scope := func(n, d string) types.ResourceServerScopeType {
		return types.ResourceServerScopeType{ScopeName: aws.String(n), ScopeDescription: aws.String(d)}
	}
	must[*cip.CreateResourceServerOutput](t)(e.admin.CreateResourceServer(ctx, &cip.CreateResourceServerInput{UserPoolId: pid,
		Identifier: aws.String("orders"), Name: aws.String("Orders API"), Scopes: []types.ResourceServerScopeType{scope("read", "Read orders"), scope("write", "Write orders")}}))
	must[*cip.CreateResourceServerOutput](t)(e.admin.CreateResourceServer(ctx, &cip.CreateResourceServerInput{UserPoolId: pid,
		Identifier: aws.String("https://api.example.test"), Name: aws.String("Main API")}))
	d := must[*cip.DescribeResourceServerOutput](t)(e.admin.DescribeResourceServer(ctx, &cip.DescribeResourceServerInput{UserPoolId: pid, Identifier: aws.String("orders")}))
	if len(d.ResourceServer.Scopes) != 2 || *d.ResourceServer.Name != "Orders API" {
		t.Fatalf("DescribeResourceServer %+v", d.ResourceServer)
	}
	must[*cip.UpdateResourceServerOutput](t)(e.admin.UpdateResourceServer(ctx, &cip.UpdateResourceServerInput{UserPoolId: pid,
		Identifier: aws.String("orders"), Name: aws.String("Orders"), Scopes: []types.ResourceServerScopeType{scope("read", "Read orders")}}))
	l := must[*cip.ListResourceServersOutput](t)(e.admin.ListResourceServers(ctx, &cip.ListResourceServersInput{UserPoolId: pid, MaxResults: aws.Int32(1)}))
	if len(l.ResourceServers) != 1 || l.NextToken == nil || *l.ResourceServers[0].Name != "Orders" || len(l.ResourceServers[0].Scopes) != 1 {
		t.Fatalf("ListResourceServers %+v", l)
	}

	// A client may be granted a scope that exists, and only such a scope.
	client := func(scopes ...string) error {
		_, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pid, ClientName: aws.String("machine"),
			GenerateSecret: true, AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeClientCredentials},
			AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthScopes: scopes})
		return err
	}
	if err := client("orders/read"); err != nil {
		t.Fatalf("client with orders/read: %v", err)
	}
	wantErr(t, client("orders/write"), "ScopeDoesNotExistException") // removed by UpdateResourceServer
	wantErr(t, client("billing/read"), "ScopeDoesNotExistException")

	for _, c := range []struct {
		name string
		in   *cip.CreateResourceServerInput
		want string
	}{
		{"taken identifier", &cip.CreateResourceServerInput{Identifier: aws.String("orders"), Name: aws.String("x")}, "InvalidParameterException"},
		{"space in identifier", &cip.CreateResourceServerInput{Identifier: aws.String("a b"), Name: aws.String("x")}, "InvalidParameterException"},
		{"slash in scope", &cip.CreateResourceServerInput{Identifier: aws.String("new"), Name: aws.String("x"), Scopes: []types.ResourceServerScopeType{scope("a/b", "d")}}, "InvalidParameterException"},
		{"scope twice", &cip.CreateResourceServerInput{Identifier: aws.String("new"), Name: aws.String("x"), Scopes: []types.ResourceServerScopeType{scope("a", "d"), scope("a", "d")}}, "InvalidParameterException"},
		{"bad name", &cip.CreateResourceServerInput{Identifier: aws.String("new"), Name: aws.String("<script>")}, "InvalidParameterException"},
		{"long identifier", &cip.CreateResourceServerInput{Identifier: aws.String(strings.Repeat("x", 257)), Name: aws.String("x")}, "InvalidParameterException"},
	} {
		c.in.UserPoolId = pid
		_, err := e.admin.CreateResourceServer(ctx, c.in)
		if errCode(err) != c.want {
			t.Errorf("CreateResourceServer %s: %v, want %s", c.name, err, c.want)
		}
	}
	_, err := e.admin.CreateResourceServer(ctx, &cip.CreateResourceServerInput{UserPoolId: aws.String(region + "_nopenope1"), Identifier: aws.String("x"), Name: aws.String("x")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.DescribeResourceServer(ctx, &cip.DescribeResourceServerInput{UserPoolId: pid, Identifier: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.UpdateResourceServer(ctx, &cip.UpdateResourceServerInput{UserPoolId: pid, Identifier: aws.String("nope"), Name: aws.String("x")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.ListResourceServers(ctx, &cip.ListResourceServersInput{UserPoolId: pid, MaxResults: aws.Int32(51)})
	wantErr(t, err, "InvalidParameterException")

	must[*cip.DeleteResourceServerOutput](t)(e.admin.DeleteResourceServer(ctx, &cip.DeleteResourceServerInput{UserPoolId: pid, Identifier: aws.String("https://api.example.test")}))
	_, err = e.admin.DeleteResourceServer(ctx, &cip.DeleteResourceServerInput{UserPoolId: pid, Identifier: aws.String("https://api.example.test")})
	wantErr(t, err, "ResourceNotFoundException")
}
