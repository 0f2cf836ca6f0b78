// Package apicontract holds the native API's contract checks, for tests
// only: a strict loader for the OpenAPI document (the lint) and an
// http.RoundTripper that validates every request and response against it
// and records which operations answered 2xx (internal/api/e2e).
package apicontract

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Load parses an OpenAPI document (YAML or JSON) with kin-openapi and
// validates it strictly: unknown or misplaced keys, wrong types,
// unresolved references, invalid schemas, patterns, defaults and examples
// are errors.
func Load(ctx context.Context, b []byte) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.Context = ctx
	doc, err := l.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(ctx,
		openapi3.EnableExamplesValidation(),
		openapi3.EnableSchemaDefaultsValidation(),
		openapi3.EnableSchemaPatternValidation()); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return doc, nil
}
