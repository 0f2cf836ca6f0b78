package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// auth.Client.Hosted lets the hosted pages sign in for any app client of
// the pool without its secret and whatever its ExplicitAuthFlows say, as
// Cognito's hosted UI does: the pages are Gatehouse's own UI, the tokens
// of such a sign-in stay on the server (sealed in the session cookie) and
// reach the relying party only through /oauth2/token, which authenticates
// the client (secret or PKCE). These tests prove that no outside caller
// can set it.

// TestHostedFlagIsSetOnlyInProcess scans the module's non-test code: only
// internal/auth and internal/web may set auth.Client.Hosted, and no other
// package may hold an auth.Client in a struct (a wire struct decoded from
// JSON could then carry "Hosted": true).
func TestHostedFlagIsSetOnlyInProcess(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"internal/auth": true, "internal/web": true}
	fset := token.NewFileSet()
	seen := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n != "." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		dir := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		seen++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Hosted" && !allowed[dir] {
					t.Errorf("%s: sets Hosted (only internal/auth and internal/web may)", fset.Position(n.Pos()))
				}
			case *ast.AssignStmt:
				for _, l := range n.Lhs {
					if s, ok := l.(*ast.SelectorExpr); ok && s.Sel.Name == "Hosted" && !allowed[dir] {
						t.Errorf("%s: assigns .Hosted (only internal/auth and internal/web may)", fset.Position(n.Pos()))
					}
				}
			case *ast.StructType:
				for _, fl := range n.Fields.List {
					typ := fl.Type
					if st, ok := typ.(*ast.StarExpr); ok {
						typ = st.X
					}
					if sel, ok := typ.(*ast.SelectorExpr); ok && sel.Sel.Name == "Client" && !allowed[dir] {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "auth" {
							t.Errorf("%s: a struct field of type auth.Client (a wire struct must not carry one)", fset.Position(fl.Pos()))
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("scanned only %d files from %s", seen, root)
	}
}

// TestHostedFlagCannotBeSetFromOutside: a confidential client that allows
// only refresh tokens. The native API and the Cognito API refuse a
// password sign-in for it, with or without the secret, whatever "hosted"
// fields the body adds; the hosted page signs the same user in, and none
// of its answers carries a token.
func TestHostedFlagCannotBeSetFromOutside(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	confirmedUser(t, e, "hosted@example.org")
	cl, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "backend", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(u string, hdr map[string]string, body any) (int, string) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", u, bytes.NewReader(b))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(out)
	}
	noTokens := func(what string, st int, body string) {
		t.Helper()
		if st < 400 || st >= 500 || strings.Contains(body, "eyJ") {
			t.Errorf("%s: %d %s", what, st, body)
		}
	}
	jsonHdr := map[string]string{"Content-Type": "application/json"}
	for _, secret := range []string{"", cl.Secret} {
		for _, extra := range []map[string]any{nil, {"hosted": true}, {"Hosted": true}, {"client": map[string]any{"Hosted": true}}} {
			body := map[string]any{"client_id": cl.Client.ID, "username": "hosted@example.org", "password": pw}
			if secret != "" {
				body["client_secret"] = secret
			}
			for k, v := range extra {
				body[k] = v
			}
			st, out := post(e.base+"/api/v1/auth/sign-in", jsonHdr, body)
			noTokens("native sign-in "+strings.Join(keys(extra), ","), st, out)
		}
	}
	cg := httptest.NewServer(cognito.New(e.svc, cognito.Options{}))
	t.Cleanup(cg.Close)
	amz := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}
	for _, extra := range []map[string]any{nil, {"Hosted": true}, {"ClientHosted": true}} {
		body := map[string]any{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": cl.Client.ID,
			"AuthParameters": map[string]any{"USERNAME": "hosted@example.org", "PASSWORD": pw, "Hosted": "true"}}
		for k, v := range extra {
			body[k] = v
		}
		st, out := post(cg.URL+"/", amz, body)
		noTokens("Cognito InitiateAuth "+strings.Join(keys(extra), ","), st, out)
	}

	// The hosted page: signs in (Cognito's hosted UI ignores
	// ExplicitAuthFlows too) and hands out a sealed session, never a token.
	b := e.browser()
	r := b.submit(e.page("login?client_id="+cl.Client.ID), url.Values{"username": {"hosted@example.org"}, "password": {pw}})
	must(t, r, http.StatusSeeOther)
	acct := must(t, b.get(e.base+r.header.Get("Location")), http.StatusOK)
	for _, resp := range []resp{r, acct} {
		var hdr strings.Builder
		_ = resp.header.Write(&hdr)
		if strings.Contains(resp.body, "eyJ") || strings.Contains(hdr.String(), "eyJ") {
			t.Errorf("a hosted page answer carries a token: %s %s", hdr.String(), resp.body)
		}
	}
	if !strings.Contains(r.header.Get("Set-Cookie"), "gatehouse_session_") {
		t.Errorf("no session cookie: %v", r.header)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
