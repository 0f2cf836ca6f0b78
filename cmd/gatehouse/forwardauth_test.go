package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const forwardAuthYAML = `
forward_auth:
  cache_ttl: 2s
  cache_size: 100
  pools:
    us-east-1_Docs:
      clients: [client-1]
      rules:
        - methods: [GET]
          path: /healthz
          public: true
        - methods: [GET]
          path: /companies/{company}/documents
          groups: [Users, Managers, Admins]
          claims:
            - claim: custom:company_name
              path_value: company
        - methods: [DELETE]
          path: /companies/{company}/documents/{id}
          groups: [Admins]
          claims:
            - {claim: custom:company_name, path_value: company}
`

func loadFA(t *testing.T, yaml string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(path, []byte("dev: true\n"+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	if err := LoadConfigFile(&cfg, path); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestForwardAuthConfig(t *testing.T) {
	t.Parallel()
	cfg, err := loadFA(t, forwardAuthYAML)
	if err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	fa := cfg.ForwardAuth
	if fa.CacheTTL.D() != 2*time.Second || fa.CacheSize != 100 || len(fa.Pools["us-east-1_Docs"].Rules) != 3 {
		t.Fatalf("decoded %+v", fa)
	}
	if d := DefaultConfig().ForwardAuth; d.CacheTTL.D() != 5*time.Second || d.CacheSize != 10000 {
		t.Fatalf("defaults %+v", d)
	}
	// Mounted: a public rule answers 200, anything else is refused before
	// the token is looked at (so no service is needed here).
	mux := http.NewServeMux()
	if err := mountForwardAuth(mux, nil, fa, nil); err != nil {
		t.Fatal(err)
	}
	ask := func(pool, method, uri string) int {
		r := httptest.NewRequest("GET", "/authz/check/"+pool, nil)
		r.Header.Set("X-Forwarded-Method", method)
		r.Header.Set("X-Forwarded-Uri", uri)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	if c := ask("us-east-1_Docs", "GET", "/healthz"); c != 200 {
		t.Fatalf("public: %d", c)
	}
	if c := ask("us-east-1_Docs", "GET", "/companies/Acme/documents"); c != 401 {
		t.Fatalf("no token: %d", c)
	}
	if c := ask("us-east-1_Docs", "GET", "/elsewhere"); c != 403 {
		t.Fatalf("no rule: %d", c)
	}
	if c := ask("us-east-1_Other", "GET", "/healthz"); c != 403 {
		t.Fatalf("other pool: %d", c)
	}
}

func TestForwardAuthConfigErrors(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"negative ttl":     "forward_auth:\n  cache_ttl: -1s\n",
		"long ttl":         "forward_auth:\n  cache_ttl: 1h\n",
		"negative size":    "forward_auth:\n  cache_size: -1\n",
		"no rules":         "forward_auth:\n  pools:\n    p1:\n      rules: []\n",
		"relative path":    "forward_auth:\n  pools:\n    p1:\n      rules:\n        - path: docs\n",
		"bad method":       "forward_auth:\n  pools:\n    p1:\n      rules:\n        - {path: /d, methods: [BREW]}\n",
		"bad path_value":   "forward_auth:\n  pools:\n    p1:\n      rules:\n        - path: /d/{x}\n          claims: [{claim: c, path_value: y}]\n",
		"public w/ groups": "forward_auth:\n  pools:\n    p1:\n      rules:\n        - {path: /d, public: true, groups: [A]}\n",
		"unknown key":      "forward_auth:\n  pools:\n    p1:\n      rules:\n        - {path: /d, group: [A]}\n",
	}
	for name, y := range bad {
		_, err := loadFA(t, y)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), "forward_auth") && name != "unknown key" {
			t.Errorf("%s: error does not name the setting: %v", name, err)
		}
	}
	// cache_ttl: 0s disables the cache and is valid.
	cfg, err := loadFA(t, "forward_auth:\n  cache_ttl: 0s\n")
	if err != nil || cfg.ForwardAuth.CacheTTL != 0 {
		t.Fatalf("0s: %v %v", cfg.ForwardAuth.CacheTTL, err)
	}
}

// TestForwardAuthMatrixParams: a path holding ";" is refused unless its
// rule says the backend reads path parameters (matrix_params).
// security.md G2
func TestForwardAuthMatrixParams(t *testing.T) {
	t.Parallel()
	cfg, err := loadFA(t, `
forward_auth:
  pools:
    us-east-1_Docs:
      rules:
        - {methods: [GET], path: /static/, public: true}
        - {methods: [GET], path: /app/, public: true, matrix_params: true}
`)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := mountForwardAuth(mux, nil, cfg.ForwardAuth, nil); err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]int{
		"/static/a.js":                 200,
		"/static/a.js;v=1":             403,
		"/static/..;/app/x":            403,
		"/app/page;jsessionid=1":       200,
		"/app/..;/static/x":            403,
		"/app;x/..;/..;/etc/passwd":    403,
		"/app/page%3Bjsessionid=1":     403,
		"/app/page;jsessionid=1/../..": 403,
	} {
		r := httptest.NewRequest("GET", "/authz/check/us-east-1_Docs", nil)
		r.Header.Set("X-Forwarded-Method", "GET")
		r.Header.Set("X-Forwarded-Uri", uri)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%s: %d, want %d", uri, w.Code, want)
		}
	}
}
