package api

import (
	"context"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/api/apicontract"
)

// TestOpenAPIIsValid loads openapi.yaml with kin-openapi and fails on any
// structural error: unknown or misplaced keys (a description that YAML
// split into bogus properties), wrong types, unresolved references, bad
// schemas, parameters and examples. The served JSON is checked the same
// way, so what clients download is what passed.
func TestOpenAPIIsValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		doc  func() ([]byte, error)
	}{
		{"openapi.yaml", func() ([]byte, error) { return openAPIYAML, nil }},
		{"openapi.json", OpenAPIJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.doc()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := apicontract.Load(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenAPILintCatchesSplitDescriptions shows the linter refuses the
// mistake that issue 19 found: a description in a YAML flow mapping that
// the commas split into keys of their own.
func TestOpenAPILintCatchesSplitDescriptions(t *testing.T) {
	t.Parallel()
	bad := []byte(`openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /u/{username}:
    get:
      operationId: getU
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}, description: The username (in email pools, the email address), URL-escaped.}
      responses:
        '200': {description: ok}
`)
	if _, err := apicontract.Load(context.Background(), bad); err == nil {
		t.Fatal("a split description passed the lint")
	}
}
