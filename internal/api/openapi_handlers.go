package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"gopkg.in/yaml.v3"
)

// openapi.yaml is the hand-written OpenAPI 3.1 description of every route
// in routes.go; it is served as JSON.
//
//go:embed openapi.yaml
var openAPIYAML []byte

var (
	openAPIOnce sync.Once
	openAPIJSON []byte
	openAPIErr  error
)

// OpenAPIJSON returns the OpenAPI document as JSON.
func OpenAPIJSON() ([]byte, error) {
	openAPIOnce.Do(func() {
		var doc any
		if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
			openAPIErr = fmt.Errorf("api: openapi.yaml: %w", err)
			return
		}
		openAPIJSON, openAPIErr = json.Marshal(doc)
		if openAPIErr != nil {
			openAPIErr = fmt.Errorf("api: openapi.yaml to JSON: %w", openAPIErr)
		}
	})
	return openAPIJSON, openAPIErr
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	b, err := OpenAPIJSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
	return nil
}
