package e2e_test

import (
	"strings"
	"testing"
)

// TestOpsAndMetrics: health, readiness backed by the store's Ping, and
// metrics labelled by the API's route patterns, never by raw paths.
func TestOpsAndMetrics(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, _ := e.newPool("ops")
	e.must(200, e.admin("GET", "/api/v1/pools/"+poolID, nil))
	e.must(404, e.admin("GET", "/api/v1/pools/"+poolID+"/users/nobody%40example.test", nil))

	m := string(e.must(200, e.do("GET", "/metrics", "", nil)).body)
	for _, want := range []string{
		`route="GET /api/v1/pools/{pool}",status="200"`,
		`route="GET /api/v1/pools/{pool}/users/{username}",status="404"`,
		`route="POST /api/v1/pools/{pool}/clients",status="201"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, poolID) || strings.Contains(m, "nobody") {
		t.Error("metrics carry a raw path")
	}

	e.must(200, e.do("GET", "/healthz", "", nil))
	e.must(200, e.do("GET", "/readyz", "", nil))
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.must(503, e.do("GET", "/readyz", "", nil))
	e.must(200, e.do("GET", "/healthz", "", nil))
}
