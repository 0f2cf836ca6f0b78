package cognito

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"
)

// TestRequiredMembers keeps requiredMembers in step with the AWS SDK for
// Go: each operation is called with an empty input, and the members the
// SDK's own validation reports missing (it checks AWS's model before
// sending anything) must be the table's.
func TestRequiredMembers(t *testing.T) {
	t.Parallel()
	cl := cip.New(cip.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	missingRE := regexp.MustCompile(`missing required field, \w+Input\.(\w+)\.`)
	for op := range operations {
		m := reflect.ValueOf(cl).MethodByName(op)
		if !m.IsValid() {
			t.Errorf("the SDK has no operation %s", op)
			continue
		}
		in := reflect.New(m.Type().In(1).Elem())
		out := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
		err, _ := out[1].Interface().(error)
		var want []string
		var ip smithy.InvalidParamsError
		if errors.As(err, &ip) {
			for _, s := range missingRE.FindAllStringSubmatch(ip.Error(), -1) {
				want = append(want, s[1])
			}
		}
		got := requiredMembers[op]
		if !slices.Equal(got, want) {
			t.Errorf("%s: requiredMembers %v, the SDK requires %v", op, got, want)
		}
	}
}

func TestPresentMembers(t *testing.T) {
	t.Parallel()
	names := []string{"A", "B", "C"}
	for _, c := range []struct {
		body string
		want uint64
	}{
		{`{}`, 0},
		{`null`, 0},
		{`[]`, 0},
		{`{"A":"x","B":1,"C":true}`, 7},
		{` { "A" : null , "B" : [1,{"C":"}"}] } `, 2},
		{`{"X":{"A":"1","B":"2"},"C":"3"}`, 4},
		{`{"X":"\"A\":","A":"q\\\"}"}`, 1},
		{`{"a":"lower case is another member","B":{}}`, 2},
		{"{\n\t\"C\":\r\n\"v\"}", 4},
		{`{"B":"x","B":null}`, 2},
	} {
		if got := presentMembers([]byte(c.body), names); got != c.want {
			t.Errorf("presentMembers(%s) = %03b, want %03b", c.body, got, c.want)
		}
	}
}
