package hooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// loopback lets the tests' hook receivers on 127.0.0.1 be reached.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// signed returns the Standard Webhooks headers of a delivery.
func signed(secret, id string, at time.Time, body []byte) http.Header {
	h := http.Header{}
	hooks.SetSignatureHeaders(h, secret, id, at, body)
	return h
}

// TestSignVerify: the id, the timestamp and the body are signed together
// (Standard Webhooks), so a replay outside the window, or a body under
// another delivery's id, is refused. security.md G4
func TestSignVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	h := signed("s3cret", "msg_1", t0, body)
	if h.Get("webhook-id") != "msg_1" || h.Get("webhook-timestamp") != "1795316400" || !strings.HasPrefix(h.Get("webhook-signature"), "v1,") {
		t.Fatalf("headers %v", h)
	}
	with := func(k, v string) http.Header {
		c := h.Clone()
		c.Set(k, v)
		return c
	}
	other := signed("s3cret", "msg_2", t0, body)
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"ok", "s3cret", h, body, t0, nil},
		{"ok within tolerance", "s3cret", h, body, t0.Add(4 * time.Minute), nil},
		{"replayed after the window", "s3cret", h, body, t0.Add(5*time.Minute + time.Second), hooks.ErrSignatureExpired},
		{"from the future", "s3cret", h, body, t0.Add(-6 * time.Minute), hooks.ErrSignatureExpired},
		{"wrong secret", "other", h, body, t0, hooks.ErrBadSignature},
		{"body changed", "s3cret", h, []byte(`{"a":2}`), t0, hooks.ErrBadSignature},
		{"signature of another id", "s3cret", with("webhook-id", "msg_2"), body, t0, hooks.ErrBadSignature},
		{"other delivery's signature", "s3cret", with("webhook-signature", other.Get("webhook-signature")), body, t0, hooks.ErrBadSignature},
		{"timestamp moved into the window", "s3cret", with("webhook-timestamp", "1795316700"), body, t0.Add(5 * time.Minute), hooks.ErrBadSignature},
		{"no headers", "s3cret", http.Header{}, body, t0, hooks.ErrNoSignature},
		{"no id", "s3cret", with("webhook-id", ""), body, t0, hooks.ErrNoSignature},
		{"no timestamp", "s3cret", with("webhook-timestamp", ""), body, t0, hooks.ErrNoSignature},
		{"timestamp not a number", "s3cret", with("webhook-timestamp", "1795316400.0"), body, t0, hooks.ErrNoSignature},
		{"no v1", "s3cret", with("webhook-signature", "v2,abc"), body, t0, hooks.ErrNoSignature},
		{"garbage", "s3cret", with("webhook-signature", "v1,***"), body, t0, hooks.ErrNoSignature},
		{"two signatures, second matches", "s3cret", with("webhook-signature", "v1,"+strings.Repeat("A", 43)+"= "+h.Get("webhook-signature")), body, t0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := hooks.VerifySignature(tc.secret, tc.header, tc.body, tc.now, 0); !errors.Is(err, tc.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, tc.want)
			}
		})
	}
	// The tolerance is the receiver's to choose.
	if err := hooks.VerifySignature("s3cret", h, body, t0.Add(time.Minute+time.Second), time.Minute); !errors.Is(err, hooks.ErrSignatureExpired) {
		t.Fatalf("1m tolerance: %v", err)
	}
}

// TestLegacySignature: the X-Gatehouse-Signature scheme of the previous
// release is still sent and verified, for one release (docs/hooks.md).
func TestLegacySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	h := signed("s3cret", "msg_1", t0, body)
	sig := h.Get(hooks.LegacySignatureHeader)
	if !strings.HasPrefix(sig, "t=1795316400,v1=") || h.Get(hooks.DeliveryHeader) != "msg_1" {
		t.Fatalf("legacy headers %v", h)
	}
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"ok", sig, body, t0, nil},
		{"too old", sig, body, t0.Add(6 * time.Minute), hooks.ErrSignatureExpired},
		{"body changed", sig, []byte(`{"a":2}`), t0, hooks.ErrBadSignature},
		{"empty", "", body, t0, hooks.ErrNoSignature},
		{"garbage", "t=x,v1=zz", body, t0, hooks.ErrNoSignature},
	} {
		if err := hooks.VerifyLegacySignature("s3cret", tc.header, tc.body, tc.now, 0); !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifyLegacySignature = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestStandardWebhooksLibrary: the reference Go library of the Standard
// Webhooks spec verifies a real delivery, with the secret's bytes as the
// key, or as "whsec_" + base64 of them (how its other languages take it).
func TestStandardWebhooksLibrary(t *testing.T) {
	t.Parallel()
	const secret = "ghs_example-secret"
	var got []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := standardwebhooks.NewWebhookRaw([]byte(secret))
		if err != nil {
			t.Error(err)
			return
		}
		got = append(got, raw.Verify(body, r.Header))
		enc, err := standardwebhooks.NewWebhook(hooks.StandardWebhooksSecret(secret))
		if err != nil {
			t.Error(err)
			return
		}
		got = append(got, enc.Verify(body, r.Header))
	}))
	t.Cleanup(srv.Close)
	c := hooks.New(hooks.Options{AllowedNetworks: loopback})
	_, err := c.Do(context.Background(), hooks.Call{
		Hook:    &identity.Hook{URL: srv.URL, Secret: secret},
		Trigger: identity.TriggerPostConfirmation, Source: "PostConfirmation_ConfirmSignUp", DeliveryID: "d1",
		Event: map[string]any{"x": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != nil || got[1] != nil {
		t.Fatalf("the reference library says %v", got)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := hooks.NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hooks.NewSecret(nil)
	if a == b || !strings.HasPrefix(a, hooks.SecretPrefix) || len(a) != len(hooks.SecretPrefix)+43 {
		t.Fatalf("secrets %q %q", a, b)
	}
	if _, err := hooks.NewSecret(bytes.NewReader(nil)); err == nil {
		t.Fatal("no error from an empty random source")
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/presignup", true},
		{"http://127.0.0.1:8080/x?y=1", true},
		{"http://[::1]:9/", true},
		{"", false},
		{"ftp://example.com/", false},
		{"file:///etc/passwd", false},
		{"gopher://example.com/", false},
		{"javascript:alert(1)", false},
		{"/relative", false},
		{"https://user:pw@example.com/", false},
		{"https://example.com/#frag", false},
		{"https:///nohost", false},
		{"https://example.com/" + strings.Repeat("a", 2100), false},
	} {
		err := hooks.ValidateURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateURL(%.40q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Errorf("ValidateURL(%.40q) code %s", tc.url, identity.ErrorCode(err))
		}
	}
}

// server is a real loopback HTTP hook server answering with handler, which
// also checks the signature with the receiver helper.
func server(t *testing.T, secret string, handler func(w http.ResponseWriter, ev map[string]any)) (*httptest.Server, *[]error) {
	t.Helper()
	var sigErrs []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sigErrs = append(sigErrs, hooks.VerifySignature(secret, r.Header, body, t0, 0))
		if r.Header.Get(hooks.TriggerHeader) != hooks.SourcePreSignUpSignUp || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers: %v", r.Header)
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("event: %v", err)
		}
		handler(w, ev)
	}))
	t.Cleanup(srv.Close)
	return srv, &sigErrs
}

func call(t *testing.T, c *hooks.Client, url string, timeoutMS int) (*hooks.Result, *hooks.PreSignUpResponse, error) {
	t.Helper()
	ev := hooks.PreSignUpEvent{}
	ev.TriggerSource = hooks.SourcePreSignUpSignUp
	ev.Request.UserAttributes = map[string]string{"email": "a@example.com"}
	var resp hooks.PreSignUpResponse
	res, err := c.Do(context.Background(), hooks.Call{
		Hook:    &identity.Hook{URL: url, Secret: "s3cret", TimeoutMS: timeoutMS},
		Trigger: identity.TriggerPreSignUp, Source: hooks.SourcePreSignUpSignUp, DeliveryID: "d1",
		Event: ev, Response: &resp,
	})
	return res, &resp, err
}

func TestClientOutcomes(t *testing.T) {
	t.Parallel()
	c := hooks.New(hooks.Options{Now: func() time.Time { return t0 }, AllowedNetworks: loopback})
	write := func(status int, body string) func(http.ResponseWriter, map[string]any) {
		return func(w http.ResponseWriter, _ map[string]any) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	for _, tc := range []struct {
		name    string
		handler func(http.ResponseWriter, map[string]any)
		kind    hooks.Kind
		code    identity.Code
		msg     string
		confirm bool
	}{
		{"accept echo", func(w http.ResponseWriter, ev map[string]any) {
			ev["response"] = map[string]any{"autoConfirmUser": true, "autoVerifyEmail": true, "autoVerifyPhone": false}
			json.NewEncoder(w).Encode(ev)
		}, 0, "", "", true},
		{"accept empty body", write(200, ""), 0, "", "", false},
		{"accept null response", write(200, `{"response":null}`), 0, "", "", false},
		{"reject lambda shape", write(400, `{"errorMessage":"Email is already taken","errorType":"Error"}`), hooks.KindRejected, identity.CodeUserLambdaValidation, "PreSignUp failed with error Email is already taken.", false},
		{"reject message, control chars", write(403, "{\"message\":\"no\\r\\nway.\"}"), hooks.KindRejected, identity.CodeUserLambdaValidation, "PreSignUp failed with error no way.", false},
		{"404 without message", write(404, "not found"), hooks.KindUnexpected, identity.CodeUnexpectedLambda, "PreSignUp invocation failed due to error HTTP 404.", false},
		{"500", write(500, `{"errorMessage":"boom"}`), hooks.KindUnexpected, identity.CodeUnexpectedLambda, "PreSignUp invocation failed due to error HTTP 500.", false},
		{"redirect not followed", func(w http.ResponseWriter, _ map[string]any) {
			w.Header().Set("Location", "http://169.254.169.254/")
			w.WriteHeader(302)
		}, hooks.KindUnexpected, identity.CodeUnexpectedLambda, "PreSignUp invocation failed due to error HTTP 302.", false},
		{"not JSON", write(200, "OK"), hooks.KindInvalidResponse, identity.CodeInvalidLambdaResponse, "Unrecognizable lambda output from PreSignUp: the answer is not a JSON object.", false},
		{"broken JSON", write(200, `{"response":`), hooks.KindInvalidResponse, identity.CodeInvalidLambdaResponse, "", false},
		{"unknown field", write(200, `{"response":{"autoConfirmedUser":true}}`), hooks.KindInvalidResponse, identity.CodeInvalidLambdaResponse, "Unrecognizable lambda output from PreSignUp: unknown response field \"autoConfirmedUser\".", false},
		{"wrong type", write(200, `{"response":{"autoConfirmUser":"yes"}}`), hooks.KindInvalidResponse, identity.CodeInvalidLambdaResponse, "", false},
		{"oversize", write(200, `{"response":{},"pad":"`+strings.Repeat("x", hooks.MaxResponseBytes)+`"}`), hooks.KindInvalidResponse, identity.CodeInvalidLambdaResponse, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, sigErrs := server(t, "s3cret", tc.handler)
			res, resp, err := call(t, c, srv.URL, 0)
			if len(*sigErrs) != 1 || (*sigErrs)[0] != nil {
				t.Fatalf("receiver signature check: %v", *sigErrs)
			}
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if res.Status != 200 || resp.AutoConfirmUser != tc.confirm || resp.AutoVerifyEmail != tc.confirm {
					t.Fatalf("res %+v resp %+v", res, resp)
				}
				return
			}
			var he *hooks.Error
			if !errors.As(err, &he) || he.Kind != tc.kind {
				t.Fatalf("Do error = %v, want kind %d", err, tc.kind)
			}
			ie := he.Identity()
			if ie.Code != tc.code || (tc.msg != "" && ie.Message != tc.msg) {
				t.Fatalf("identity error = %s %q, want %s %q", ie.Code, ie.Message, tc.code, tc.msg)
			}
			if res == nil || res.Status == 0 {
				t.Fatalf("no result with an HTTP answer: %+v", res)
			}
		})
	}
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // answers only when the test ends
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := hooks.New(hooks.Options{AllowedNetworks: loopback})
	_, _, err := call(t, c, srv.URL, 200)
	var he *hooks.Error
	if !errors.As(err, &he) || he.Kind != hooks.KindUnexpected || he.Reason != "Timeout" {
		t.Fatalf("err = %v", err)
	}
	if m := he.Identity().Message; m != "PreSignUp invocation failed due to error Timeout." {
		t.Fatalf("message %q", m)
	}
}

func TestClientConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, _, err := call(t, hooks.New(hooks.Options{AllowedNetworks: loopback}), url, 0)
	var he *hooks.Error
	if !errors.As(err, &he) || he.Kind != hooks.KindUnexpected || he.Reason != "ConnectionError" {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeoutBounds(t *testing.T) {
	t.Parallel()
	for ms, want := range map[int]time.Duration{0: 5 * time.Second, 200: 200 * time.Millisecond, 5000: 5 * time.Second, 60000: 5 * time.Second, -1: 5 * time.Second} {
		if got := hooks.Timeout(&identity.Hook{TimeoutMS: ms}); got != want {
			t.Errorf("Timeout(%d) = %v, want %v", ms, got, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"errorMessage":"no"}`)
	}))
	t.Cleanup(srv.Close)
	c := hooks.New(hooks.Options{AllowedNetworks: loopback})
	before := rejectedCustomMessages(t)
	_, err := c.Do(context.Background(), hooks.Call{Hook: &identity.Hook{URL: srv.URL, Secret: "s"}, Trigger: identity.TriggerCustomMessage,
		Source: hooks.SourceCustomMessageSignUp, Event: map[string]any{}, Response: &hooks.CustomMessageResponse{}})
	if err == nil {
		t.Fatal("no error")
	}
	if after := rejectedCustomMessages(t); after != before+1 {
		t.Fatalf("rejected calls %v -> %v", before, after)
	}
}

// rejectedCustomMessages reads gatehouse_hook_calls_total{trigger="custom_message",outcome="rejected"}.
func rejectedCustomMessages(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := hooks.CallsMetric().WithLabelValues("custom_message", "rejected").Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
