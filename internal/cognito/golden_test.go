package cognito_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/cognito"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// scenarios are the SDK walks through every operation, each on its own
// stack (run in parallel).
var scenarios = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"public", testPublicFlows},
	{"new_password", testNewPasswordChallenge},
	{"pools_clients", testPoolsAndClients},
	{"users_groups", testUsersAndGroups},
	{"federation_links", testFederationLinks},
	{"passkeys", testPasskeys},
	{"mfa", testMFA},
	{"user_import", testUserImport},
	{"identity_providers", testIdentityProviders},
	{"domains", testDomains},
	{"resource_servers", testResourceServers},
	{"devices", testDevices},
}

// TestOperations runs the scenarios, then checks that every operation
// Gatehouse serves answered successfully at least once, and that each first
// successful response body matches testdata/<Operation>.json once volatile
// values (tokens, ids, subs, timestamps) are normalised. go test -update
// rewrites the files.
func TestOperations(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	recs := map[string]*recorder{}
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				mu.Lock()
				recs[sc.name] = e.rec
				mu.Unlock()
				sc.fn(t, e)
			})
		}
	})
	if t.Failed() {
		return
	}
	bodies := map[string][]byte{}
	for _, sc := range scenarios { // fixed order: the first scenario to call an op wins
		for op, b := range recs[sc.name].bodies {
			if _, ok := bodies[op]; !ok {
				bodies[op] = b
			}
		}
	}
	var ops []string
	for op := range cognito.Operations() {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		b, ok := bodies[op]
		if !ok {
			t.Errorf("operation %s was never called successfully by the scenarios", op)
			continue
		}
		got := normalise(t, b)
		path := filepath.Join("testdata", op+".json")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test -update)", op, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: response body differs from %s:\n got: %s\nwant: %s", op, path, got, want)
		}
	}
}

var (
	uuidRE     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	poolIDRE   = regexp.MustCompile(`[a-z]{2}(-gov)?-[a-z]+-[0-9]_[0-9A-Za-z]{9}`)
	clientIDRE = regexp.MustCompile(`^[a-z0-9]{26}$`)
)

// volatile are members whose values change on every run.
var volatile = map[string]string{
	"AccessToken": "<token>", "IdToken": "<token>", "RefreshToken": "<token>", "Session": "<session>",
	"ClientSecret": "<secret>", "NextToken": "<next>", "PaginationToken": "<next>", "SecretCode": "<totp-secret>",
	"JobId": "<job-id>", "PreSignedUrl": "<url>", "DeviceGroupKey": "<device-group-key>",
	"challenge": "<challenge>", "id": "<id>", "CredentialId": "<credential-id>",
}

// unordered lists come back in the order of random ids.
var unordered = map[string]bool{"UserPools": true, "UserPoolClients": true, "Users": true, "Groups": true, "Providers": true, "Devices": true}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// normalise replaces volatile values and re-indents the JSON.
func normalise(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response is not JSON: %s", b)
	}
	v = walk("", v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func walk(key string, v any) any {
	if key == "EventId" { // audit row ids: their numbering differs by database
		return "<event-id>"
	}
	if r, ok := volatile[key]; ok {
		if s, isStr := v.(string); isStr && len(s) > 16 { // not TokenValidityUnits' "minutes"
			return r
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = walk(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = walk("", e)
		}
		if unordered[key] { // listed in id order, and ids are random
			sort.Slice(x, func(i, j int) bool { return jsonString(x[i]) < jsonString(x[j]) })
		}
		return x
	case float64:
		if strings.HasSuffix(key, "Date") || key == "CreatedAt" {
			return 0
		}
		return x
	case string:
		s := uuidRE.ReplaceAllString(x, "<uuid>")
		s = poolIDRE.ReplaceAllString(s, "<pool-id>")
		if clientIDRE.MatchString(s) {
			s = "<client-id>"
		}
		return s
	}
	return v
}
