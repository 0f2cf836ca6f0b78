package apicontract_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/api/apicontract"
)

const doc = `openapi: 3.1.0
info:
  title: t
  version: "1"
paths:
  /api/v1/things/{id}:
    parameters:
      - name: id
        in: path
        required: true
        schema:
          type: string
    get:
      operationId: getThing
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
      responses:
        '200':
          description: A thing.
          content:
            application/json:
              schema:
                type: object
                required:
                  - id
                properties:
                  id:
                    type: string
                  tags:
                    type: object
                    additionalProperties:
                      type: string
        '404':
          description: 'Not found. Codes: ` + "`resource_not_found`" + `.'
          content:
            application/problem+json:
              schema:
                type: object
`

// recorder is a Reporter that keeps what it is told.
type recorder struct{ got []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.got = append(r.got, fmt.Sprintf(format, args...))
}

// TestTransportReportsDrift: each way a server can drift from its
// document is reported, and only a valid 2xx counts for coverage.
func TestTransportReportsDrift(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path, status, ctype, body string
		want                            string // "" : no report
		covered                         bool
	}{
		{"as documented", "/api/v1/things/a", "200", "application/json", `{"id":"a","tags":{"k":"v"}}`, "", true},
		{"a field the document lacks", "/api/v1/things/a", "200", "application/json", `{"id":"a","secret":"x"}`, "does not declare: $.secret", false},
		{"a required field missing", "/api/v1/things/a", "200", "application/json", `{"tags":{}}`, "missing property 'id'", false},
		{"a wrong type", "/api/v1/things/a", "200", "application/json", `{"id":1}`, "does not match", false},
		{"an undocumented status", "/api/v1/things/a", "409", "application/problem+json", `{"status":409,"code":"conflict"}`, "status 409 is not documented", false},
		{"an unlisted problem code", "/api/v1/things/a", "404", "application/problem+json", `{"status":404,"code":"user_not_found"}`, `problem code "user_not_found" is not listed`, false},
		{"an error that is no problem", "/api/v1/things/a", "404", "text/plain", `nope`, "Content-Type has unexpected value", false},
		{"an invalid request accepted", "/api/v1/things/a?limit=many", "200", "application/json", `{"id":"a"}`, "accepted a request the document refuses", false},
		{"an invalid request refused", "/api/v1/things/a?limit=many", "404", "application/problem+json", `{"status":404,"code":"resource_not_found"}`, "", false},
		{"an undocumented route", "/api/v1/other", "200", "application/json", `{}`, "describes no such operation", false},
		{"an unmatched route", "/api/v1/other", "404", "application/problem+json", `{"status":404,"code":"resource_not_found"}`, "", false},
		{"not the API", "/healthz", "200", "text/plain", `ok`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				var status int
				fmt.Sscan(tc.status, &status)
				w.WriteHeader(status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := apicontract.NewChecker(context.Background(), []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			client := &http.Client{Transport: c.Transport(rec, srv.Client().Transport)}
			res, err := client.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != tc.body {
				t.Errorf("the caller got %q, want the server's %q", b, tc.body)
			}
			switch {
			case tc.want == "" && len(rec.got) > 0:
				t.Errorf("reported %q", rec.got)
			case tc.want != "" && (len(rec.got) != 1 || !strings.Contains(rec.got[0], tc.want)):
				t.Errorf("reported %q, want one report with %q", rec.got, tc.want)
			}
			if got := c.Covered("GET /api/v1/things/{id}"); got != tc.covered {
				t.Errorf("covered = %v, want %v", got, tc.covered)
			}
		})
	}
}
