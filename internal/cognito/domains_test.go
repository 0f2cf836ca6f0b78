package cognito_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// testDomains walks the user pool domain operations: a prefix domain and a
// custom domain become host names of the pool, with the bad input Cognito
// refuses.
func testDomains(t *testing.T, e *env) {
	poolID, _ := e.newPool("domains")
	otherID, _ := e.newPool("other")
	pid := aws.String(poolID)
	must[*cip.CreateUserPoolDomainOutput](t)(e.admin.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: pid, Domain: aws.String("docs-login")}))
	cd := must[*cip.CreateUserPoolDomainOutput](t)(e.admin.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: pid, Domain: aws.String("login.docs.example"),
		CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/abc")}}))
	if aws.ToString(cd.CloudFrontDomain) != "id.example.test" {
		t.Fatalf("CreateUserPoolDomain custom: %+v", cd)
	}
	d := must[*cip.DescribeUserPoolDomainOutput](t)(e.admin.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String("docs-login")}))
	if aws.ToString(d.DomainDescription.UserPoolId) != poolID || d.DomainDescription.Status != types.DomainStatusTypeActive {
		t.Fatalf("DescribeUserPoolDomain %+v", d.DomainDescription)
	}
	p := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: pid})).UserPool
	if aws.ToString(p.Domain) != "docs-login" || aws.ToString(p.CustomDomain) != "login.docs.example" {
		t.Fatalf("DescribeUserPool domains %v %v", p.Domain, p.CustomDomain)
	}
	// The hosts resolve to the pool for the hosted pages and OIDC.
	pool, err := e.svc.GetPool(ctx, poolID)
	if err != nil || len(pool.Domains) != 2 || pool.Domains[0] != "docs-login.auth.example.test" || pool.Domains[1] != "login.docs.example" {
		t.Fatalf("pool domains %v %v", pool.Domains, err)
	}
	must[*cip.UpdateUserPoolDomainOutput](t)(e.admin.UpdateUserPoolDomain(ctx, &cip.UpdateUserPoolDomainInput{UserPoolId: pid, Domain: aws.String("login.docs.example"),
		CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/def")}}))
	d = must[*cip.DescribeUserPoolDomainOutput](t)(e.admin.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String("login.docs.example")}))
	if aws.ToString(d.DomainDescription.CustomDomainConfig.CertificateArn) != "arn:aws:acm:us-east-1:123456789012:certificate/def" {
		t.Fatalf("after UpdateUserPoolDomain %+v", d.DomainDescription)
	}
	// An unknown domain is an empty description, as on AWS.
	d = must[*cip.DescribeUserPoolDomainOutput](t)(e.admin.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String("nobody-here")}))
	if d.DomainDescription == nil || d.DomainDescription.UserPoolId != nil {
		t.Fatalf("unknown domain: %+v", d.DomainDescription)
	}

	for _, c := range []struct {
		name string
		in   *cip.CreateUserPoolDomainInput
		want string
	}{
		{"second prefix", &cip.CreateUserPoolDomainInput{UserPoolId: pid, Domain: aws.String("docs-two")}, "InvalidParameterException"},
		{"taken by another pool", &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("docs-login")}, "InvalidParameterException"},
		{"custom domain taken", &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("login.docs.example"),
			CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x")}}, "InvalidParameterException"},
		{"reserved word", &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("my-cognito")}, "InvalidParameterException"},
		{"bad characters", &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("Bad_Name")}, "InvalidParameterException"},
		{"bad custom host", &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("https://x/"),
			CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x")}}, "InvalidParameterException"},
		{"unknown pool", &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(region + "_nopenope1"), Domain: aws.String("fresh")}, "ResourceNotFoundException"},
	} {
		_, err := e.admin.CreateUserPoolDomain(ctx, c.in)
		if errCode(err) != c.want {
			t.Errorf("CreateUserPoolDomain %s: %v, want %s", c.name, err, c.want)
		}
	}
	_, err = e.admin.DeleteUserPoolDomain(ctx, &cip.DeleteUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("docs-login")})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.UpdateUserPoolDomain(ctx, &cip.UpdateUserPoolDomainInput{UserPoolId: pid, Domain: aws.String("nope.example"),
		CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String("arn:x")}})
	wantErr(t, err, "InvalidParameterException")

	must[*cip.DeleteUserPoolDomainOutput](t)(e.admin.DeleteUserPoolDomain(ctx, &cip.DeleteUserPoolDomainInput{UserPoolId: pid, Domain: aws.String("docs-login")}))
	pool, err = e.svc.GetPool(ctx, poolID)
	if err != nil || len(pool.Domains) != 1 || pool.Domains[0] != "login.docs.example" {
		t.Fatalf("pool domains after DeleteUserPoolDomain %v %v", pool.Domains, err)
	}
	// The prefix is free again, for any pool.
	must[*cip.CreateUserPoolDomainOutput](t)(e.admin.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(otherID), Domain: aws.String("docs-login")}))
}
