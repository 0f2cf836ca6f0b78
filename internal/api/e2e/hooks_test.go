package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

// hookReceiver is a real loopback webhook that verifies signatures with
// hooks.VerifySignature, as an integrator's receiver would.
func hookReceiver(t *testing.T, secret *string, answer func(ev map[string]any) (int, any)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := hooks.VerifySignature(*secret, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		status, out := answer(ev)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHooksThroughTheAPI configures hooks through the native API and runs
// article 002's PreSignUp ("Email is already taken") against a real
// receiver: the rejection reaches the client in Cognito's form and
// nothing is written; a custom message arrives at a real SMTP server.
func TestHooksThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("hooks")
	base := "/api/v1/pools/" + poolID + "/hooks/"

	var secret string
	taken := map[string]bool{"taken@example.com": true}
	pre := hookReceiver(t, &secret, func(ev map[string]any) (int, any) {
		email, _ := ev["request"].(map[string]any)["userAttributes"].(map[string]any)["email"].(string)
		if taken[email] {
			return 400, map[string]any{"errorType": "Error", "errorMessage": "Email is already taken"}
		}
		return 200, ev
	})

	// PUT without a secret: one is generated and shown once.
	var h struct {
		Trigger, URL, Secret string
		TimeoutMS            int `json:"timeout_ms"`
	}
	e.must(200, e.admin("PUT", base+"pre_sign_up", map[string]any{"url": pre.URL, "timeout_ms": 2000})).json(t, &h)
	if !strings.HasPrefix(h.Secret, hooks.SecretPrefix) || h.TimeoutMS != 2000 || h.Trigger != "pre_sign_up" {
		t.Fatalf("put hook %+v", h)
	}
	secret = h.Secret
	// Reads mask it.
	r := e.must(200, e.admin("GET", "/api/v1/pools/"+poolID+"/hooks", nil))
	if strings.Contains(string(r.body), secret) || !strings.Contains(string(r.body), `"secret":"********"`) {
		t.Fatalf("list hooks leaks or lacks the mask: %s", r.body)
	}
	// The test event reports status and latency.
	var tr struct {
		OK        bool
		Status    int
		LatencyMS float64 `json:"latency_ms"`
		Source    string  `json:"trigger_source"`
	}
	e.must(200, e.admin("POST", base+"pre_sign_up/test", nil)).json(t, &tr)
	if !tr.OK || tr.Status != 200 || tr.LatencyMS <= 0 || tr.Source != "PreSignUp_SignUp" {
		t.Fatalf("test event %+v", tr)
	}
	// Bad input.
	p := e.admin("PUT", base+"pre_sign_up", map[string]any{"url": "file:///etc/passwd"}).problem(t)
	if p.Code != "invalid_parameter" || p.Field != "url" {
		t.Fatalf("file URL: %+v", p)
	}
	if p := e.admin("PUT", base+"pre_login", map[string]any{"url": pre.URL}).problem(t); p.Field != "trigger" {
		t.Fatalf("unknown trigger: %+v", p)
	}

	// The rejection reaches the client as Cognito words it; nothing is written.
	rej := e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": clientID,
		"username": "taken@example.com", "password": goodPassword})
	if p := rej.problem(t); rej.status != 400 || p.Code != "user_lambda_validation" || p.Detail != "PreSignUp failed with error Email is already taken." {
		t.Fatalf("rejected sign-up: %d %+v", rej.status, p)
	}
	if n := e.userCount(poolID); n != 0 {
		t.Fatalf("%d users after a rejected sign-up", n)
	}
	// A receiver that no longer knows the secret: 502 unexpected_lambda.
	secret = "rotated-elsewhere-0000000000"
	bad := e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": clientID,
		"username": "new@example.com", "password": goodPassword})
	if p := bad.problem(t); bad.status != 502 || p.Code != "unexpected_lambda" {
		t.Fatalf("bad signature sign-up: %d %+v", bad.status, p)
	}
	secret = h.Secret

	// custom_message: the email delivered over SMTP carries the hook's text.
	cm := hookReceiver(t, &secret, func(ev map[string]any) (int, any) {
		ev["response"] = map[string]any{"emailSubject": "Your Acme code",
			"emailMessage": "<p>Welcome to Acme, {username}. Your code: <b>{####}</b></p>"}
		return 200, ev
	})
	e.must(200, e.admin("PUT", base+"custom_message", map[string]any{"url": cm.URL, "secret": secret}))
	e.must(201, e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": clientID,
		"username": "new@example.com", "password": goodPassword}))

	smtp := mailtest.StartServer(t)
	sender, err := mail.NewSMTPSender(smtp.SMTPConfig("Gatehouse <no-reply@example.test>"))
	if err != nil {
		t.Fatal(err)
	}
	runner := jobs.NewRunner(e.db, jobs.Options{Worker: "e2e", Log: slog.New(slog.DiscardHandler)})
	runner.Register(mail.JobKind, mail.DeliveryHandler(e.db, sender, slog.New(slog.DiscardHandler)))
	if _, err := runner.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := smtp.WaitFor(t, "new@example.com", 10*time.Second)
	code := m.Code()
	if m.Subject != "Your Acme code" || code == "" || !strings.Contains(m.Text, "Welcome to Acme, new@example.com. Your code: "+code) ||
		!strings.Contains(m.HTML, "<b>"+code+"</b>") {
		t.Fatalf("delivered email: subject %q text %q html %q", m.Subject, m.Text, m.HTML)
	}
	e.must(204, e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": clientID,
		"username": "new@example.com", "code": code}))

	// DELETE removes it; the test endpoint then says so.
	e.must(204, e.admin("DELETE", base+"custom_message", nil))
	if p := e.admin("POST", base+"custom_message/test", nil).problem(t); p.Code != "resource_not_found" {
		t.Fatalf("test after delete: %+v", p)
	}
}

// TestTestHookIsNoProbe: a pool-scoped admin's "test hook" cannot reach
// internal addresses without the operator's override, and its answer for
// them is the answer for a closed port: "could not connect", nothing
// more. security.md G5
func TestTestHookIsNoProbe(t *testing.T) {
	t.Parallel()
	e := setupHooks(t, hooks.New(hooks.Options{})) // production default: no override
	poolID, _ := e.newPool("probe")
	_, scoped, err := e.svc.CreateAPIKey(context.Background(), poolID, "pool-admin")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	t.Cleanup(recv.Close)
	port := recv.URL[strings.LastIndex(recv.URL, ":")+1:]
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	base := "/api/v1/pools/" + poolID + "/hooks/pre_sign_up"
	type answer struct {
		OK        bool    `json:"ok"`
		Status    int     `json:"status"`
		Source    string  `json:"trigger_source"`
		ErrorCode string  `json:"error_code"`
		Error     string  `json:"error"`
		LatencyMS float64 `json:"latency_ms"`
	}
	test := func(u string) answer {
		t.Helper()
		e.must(200, e.do("PUT", base, "Bearer "+scoped, map[string]any{"url": u, "secret": "s3cret-s3cret-s3cret"}))
		var a answer
		e.must(200, e.do("POST", base+"/test", "Bearer "+scoped, nil)).json(t, &a)
		a.LatencyMS = 0
		return a
	}
	want := answer{Source: "PreSignUp_SignUp", ErrorCode: "unexpected_lambda", Error: "PreSignUp invocation failed due to error ConnectionError."}
	if got := test(fmt.Sprintf("http://127.0.0.1:%d/", closedPort)); got != want {
		t.Fatalf("closed port: %+v", got)
	}
	for _, u := range []string{
		recv.URL + "/hook",
		"http://localhost:" + port + "/hook",
		"http://[::1]:" + port + "/hook",
		"http://10.0.0.1:9/hook",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://[fd00::1]/hook",
	} {
		if got := test(u); got != want {
			t.Errorf("%s: %+v, want the closed port's answer %+v", u, got, want)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the receiver on 127.0.0.1 was reached %d times", hits.Load())
	}
}
