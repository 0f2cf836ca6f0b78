package api

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestStatusFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[identity.Code]int{
		identity.CodeInvalidParameter:      400,
		identity.CodeInvalidPassword:       400,
		identity.CodeCodeMismatch:          400,
		identity.CodeExpiredCode:           400,
		identity.CodeUserLambdaValidation:  400,
		identity.CodeInvalidUserPoolConfig: 400,
		identity.CodeNotAuthorized:         401,
		identity.CodeInvalidToken:          401,
		identity.CodeUnauthenticated:       401,
		identity.CodeUserDisabled:          403,
		identity.CodeUserNotConfirmed:      403,
		identity.CodeApprovalPending:       403,
		identity.CodePasswordResetRequired: 403,
		identity.CodeForbidden:             403,
		identity.CodeUserNotFound:          404,
		identity.CodeResourceNotFound:      404,
		codeMethodNotAllowed:               405,
		identity.CodeUsernameExists:        409,
		identity.CodeAliasExists:           409,
		identity.CodeGroupExists:           409,
		identity.CodeConflict:              409,
		identity.CodePayloadTooLarge:       413,
		identity.CodeInsufficientScope:     403,
		form.CodeUnsupportedMediaType:      415,
		identity.CodeTooManyRequests:       429,
		identity.CodeTooManyFailedAttempts: 429,
		identity.CodeLimitExceeded:         429,
		identity.CodeInternal:              500,
		identity.CodeUnsupported:           501,
		identity.CodeCodeDeliveryFailure:   502,
		identity.CodeUnexpectedLambda:      502,
		identity.CodeInvalidLambdaResponse: 502,
	} {
		got, ok := statusFor(code)
		if !ok || got != want {
			t.Errorf("statusFor(%s) = %d, %v; want %d", code, got, ok, want)
		}
	}
	if got, ok := statusFor("some_new_code"); ok || got != 500 {
		t.Errorf("unknown code: %d %v", got, ok)
	}
}

// TestEveryIdentityCodeIsMapped reads the Code constants out of the
// identity package's source, so a code added there without a status here
// fails this test instead of silently becoming a 500.
func TestEveryIdentityCodeIsMapped(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../identity/error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || vs.Type == nil || fmt.Sprint(vs.Type) != "Code" {
			return true
		}
		for _, v := range vs.Values {
			lit, ok := v.(*ast.BasicLit)
			if !ok {
				continue
			}
			s, _ := strconv.Unquote(lit.Value)
			n++
			if _, ok := statusFor(identity.Code(s)); !ok {
				t.Errorf("identity code %q has no HTTP status in statusFor", s)
			}
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found only %d codes in identity/error.go; the parser missed them", n)
	}
}

func TestProblemFor(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		detail string
		field  string
	}{
		{"field error", identity.FieldError("username", "username is required."), 400, "invalid_parameter", "username is required.", "username"},
		{"wrapped", fmt.Errorf("ctx: %w", identity.Errorf(identity.CodeUserNotFound, "User does not exist.")), 404, "user_not_found", "User does not exist.", ""},
		{"plain error hides text", errors.New("pq: relation users does not exist"), 500, "internal", "An internal error occurred.", ""},
		{"internal hides message", &identity.Error{Code: identity.CodeInternal, Message: "disk full at /var/lib", Err: errors.New("x")}, 500, "internal", "An internal error occurred.", ""},
		{"unknown code hides message", &identity.Error{Code: "brand_new", Message: "secret detail"}, 500, "internal", "An internal error occurred.", ""},
	} {
		p := problemFor(r, tc.err)
		if p.Status != tc.status || p.Code != tc.code || p.Detail != tc.detail || p.Field != tc.field {
			t.Errorf("%s: %+v", tc.name, p)
		}
	}
}

func TestUnmatchedRoutesAreProblems(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/api/v1/nope", 404, "resource_not_found", ""},
		{"PUT", "/api/v1/auth/sign-up", 405, "method_not_allowed", "POST"},
		{"POST", "/api/v1/me", 405, "method_not_allowed", "DELETE, GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		p := decodeProblem(t, rec)
		if rec.Code != tc.status || p.Code != tc.code {
			t.Errorf("%s %s: %d %+v", tc.method, tc.path, rec.Code, p)
		}
		if got := rec.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}
