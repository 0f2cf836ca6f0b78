package e2e_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/api/apicontract"
)

// The contract: every call the tests make through env (do, admin, send)
// goes through a RoundTripper that validates the request and the response
// against the served OpenAPI document (apicontract.Checker.Transport), so
// a handler that answers a field the document lacks, misses one it
// promises, answers an undocumented status or a problem code its
// operation does not list fails the test that made the call.
var (
	contractOnce sync.Once
	contract     *apicontract.Checker
	contractErr  error
)

func checker(t testing.TB) *apicontract.Checker {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := api.OpenAPIJSON()
		if err != nil {
			contractErr = err
			return
		}
		contract, contractErr = apicontract.NewChecker(context.Background(), doc)
	})
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	return contract
}

// contractClient is an HTTP client for srv whose calls are validated.
func contractClient(t testing.TB, base *http.Client) *http.Client {
	c := *base
	c.Transport = checker(t).Transport(t, base.Transport)
	return &c
}

// checkCoverage runs after each pass of the whole package: every route of
// routes.go must be documented and must have answered 2xx to a validated
// call of some test. A run narrowed by -run or -skip, or a pass that
// already failed, is not judged.
func checkCoverage(code int) int {
	if code != 0 || contract == nil || narrowed() {
		if contract != nil {
			contract.ResetCoverage()
		}
		return code
	}
	defer contract.ResetCoverage()
	documented := map[string]bool{}
	for _, p := range contract.Patterns() {
		documented[p] = true
	}
	var undocumented, unexercised []string
	for _, p := range api.Routes() {
		switch {
		case !documented[p]:
			undocumented = append(undocumented, p)
		case !contract.Covered(p):
			unexercised = append(unexercised, p)
		}
	}
	if len(undocumented)+len(unexercised) == 0 {
		return code
	}
	fmt.Fprintln(os.Stderr, "FAIL: the native API's contract coverage (internal/api/e2e/contract_test.go)")
	for _, p := range undocumented {
		fmt.Fprintf(os.Stderr, "  route %s (routes.go) is not in internal/api/openapi.yaml: document it\n", p)
	}
	for _, p := range unexercised {
		fmt.Fprintf(os.Stderr, "  route %s never answered 2xx to a validated call: add one to a test of internal/api/e2e (env.do / env.admin)\n", p)
	}
	return 1
}

// narrowed reports whether the run selects only some tests.
func narrowed() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return true
		}
	}
	return false
}
