package testenv_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var emailPool = &auth.CreatePoolInput{Name: "app", UsernameMode: identity.UsernameEmail}

// TestSignUpConfirmSignIn is the package doc's example carried through:
// the hosted sign-up form, the code from the real SMTP message, the
// confirmation form, then a hosted sign-in that leaves a session.
func TestSignUpConfirmSignIn(t *testing.T) {
	t.Parallel()
	s := testenv.New(t, testenv.Options{SMTP: true, Pool: emailPool,
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword}}}})
	if s.DB != testenv.Current() {
		t.Fatalf("stack on %s during the %s pass", s.DB, testenv.Current())
	}
	b := s.Browser()
	r := b.Fill(s.Page("signup?client_id="+s.Client(0).ID), url.Values{
		"email": {"ann@example.org"}, "password": {testenv.Password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("sign-up: %d %s", r.Status, r.Body)
	}
	code := s.Mail("ann@example.org").Code()
	if code == "" {
		t.Fatal("no code in the email")
	}
	r = b.Fill(r.Location(), url.Values{"username": {"ann@example.org"}, "code": {code}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	r = s.HostedSignIn(b, s.Client(0).ID, "ann@example.org", "")
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "/account") {
		t.Fatalf("hosted sign-in: %d %s %s", r.Status, r.Location(), r.Body)
	}
	if got := testenv.Claims(t, s.SignIn(s.Client(0).ID, "ann@example.org", "").IDToken)["email"]; got != "ann@example.org" {
		t.Fatalf("ID token email %v", got)
	}
	s.NoMail("ann@example.org")
}

// TestFixturesAndIsolation: the options' fixtures exist, and two stacks
// never share a database.
func TestFixturesAndIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := testenv.New(t, testenv.Options{Clock: testenv.NewClock(start), AdminKey: true, Pool: emailPool,
		Policy:    &identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{}},
		Groups:    []string{"staff"},
		Companies: []identity.Company{{Name: "acme", DisplayName: "Acme", Approvers: []identity.Approver{{Email: "boss@acme.example"}}}},
		Users:     []testenv.User{{Username: "jo@acme.example", Groups: []string{"staff"}}}})
	other := testenv.New(t, testenv.Options{})
	if s.Pool.Settings.SignUp.Approval == nil || len(s.Companies) != 1 || s.Subs["jo@acme.example"] == "" || s.AdminKey == "" {
		t.Fatalf("fixtures: %+v %+v %v", s.Pool.Settings.SignUp, s.Companies, s.Subs)
	}
	v, err := s.Svc.AdminGetUser(ctx, s.Pool.ID, "jo@acme.example")
	if err != nil || len(v.Groups) != 1 || !v.User.EmailVerified || !v.User.CreatedAt.Equal(start) {
		t.Fatalf("user: %+v %v", v, err)
	}
	if _, err := other.Svc.GetPool(ctx, s.Pool.ID); err == nil {
		t.Fatal("a second stack sees the first one's pool")
	}
	s.Clock.Advance(time.Hour)
	if !s.Clock.Now().Equal(start.Add(time.Hour)) {
		t.Fatalf("clock at %s", s.Clock.Now())
	}
	// The admin key works on the API behind the middleware.
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/pools/"+s.Pool.ID, nil)
	req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	if r := s.Browser().Do(req); r.Status != http.StatusOK || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("admin API: %d %v %s", r.Status, r.Header, r.Body)
	}
}
