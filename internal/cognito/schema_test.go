package cognito_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestSchemaValidation: CreateUserPool and AddCustomAttributes refuse the
// schemas Cognito refuses, with its words where it has them
// (testdata/schema.golden), and a refused call changes nothing.
func TestSchemaValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	str := types.AttributeDataTypeString
	num := types.AttributeDataTypeNumber
	cases := []struct {
		name string
		attr types.SchemaAttributeType
	}{
		{"custom attribute without a data type", types.SchemaAttributeType{Name: aws.String("tier")}},
		{"required custom attribute", types.SchemaAttributeType{Name: aws.String("tier"), AttributeDataType: str, Required: aws.Bool(true)}},
		{"standard attribute as a Number", types.SchemaAttributeType{Name: aws.String("email"), AttributeDataType: num}},
		{"developer-only standard attribute", types.SchemaAttributeType{Name: aws.String("name"), AttributeDataType: str, DeveloperOnlyAttribute: aws.Bool(true)}},
		{"number constraints on a String", types.SchemaAttributeType{Name: aws.String("tier"), AttributeDataType: str,
			NumberAttributeConstraints: &types.NumberAttributeConstraintsType{MinValue: aws.String("1")}}},
		{"string constraints on a Number", types.SchemaAttributeType{Name: aws.String("tier"), AttributeDataType: num,
			StringAttributeConstraints: &types.StringAttributeConstraintsType{MaxLength: aws.String("5")}}},
		{"MinLength above MaxLength", types.SchemaAttributeType{Name: aws.String("code"), AttributeDataType: str,
			StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String("10"), MaxLength: aws.String("5")}}},
		{"MinValue above MaxValue", types.SchemaAttributeType{Name: aws.String("tier"), AttributeDataType: num,
			NumberAttributeConstraints: &types.NumberAttributeConstraintsType{MinValue: aws.String("9"), MaxValue: aws.String("1")}}},
		{"MaxLength over 2048", types.SchemaAttributeType{Name: aws.String("notes"), AttributeDataType: str,
			StringAttributeConstraints: &types.StringAttributeConstraintsType{MaxLength: aws.String("4096")}}},
		{"developer-only custom attribute", types.SchemaAttributeType{Name: aws.String("secret"), AttributeDataType: str, DeveloperOnlyAttribute: aws.Bool(true)}},
	}
	for _, c := range cases {
		_, err := e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("schema"), Schema: []types.SchemaAttributeType{c.attr}})
		tr.add("CreateUserPool: "+c.name, err, "")
	}
	ps := must[*cip.ListUserPoolsOutput](t)(e.admin.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)}))
	if len(ps.UserPools) != 0 {
		t.Fatalf("a refused CreateUserPool left a pool: %+v", ps.UserPools)
	}
	p := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("schema")})).UserPool
	for _, c := range cases[:2] {
		_, err := e.admin.AddCustomAttributes(ctx, &cip.AddCustomAttributesInput{UserPoolId: p.Id, CustomAttributes: []types.SchemaAttributeType{c.attr}})
		tr.add("AddCustomAttributes: "+c.name, err, "")
	}
	d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: p.Id}))
	if n := len(d.UserPool.SchemaAttributes); n != 20 {
		t.Fatalf("a refused AddCustomAttributes changed the schema: %d attributes", n)
	}
	tr.check("schema.golden")
}
