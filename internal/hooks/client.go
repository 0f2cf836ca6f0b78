package hooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Limits of a hook call.
const (
	// DefaultTimeout is a hook's timeout when its TimeoutMS is 0; it is
	// also the maximum, Cognito's limit for synchronous triggers.
	DefaultTimeout = 5 * time.Second
	// MaxResponseBytes caps the body read from a hook; a bigger 2xx
	// answer is an invalid response.
	MaxResponseBytes = 256 << 10
	// MaxMessageRunes caps a rejection message shown to callers.
	MaxMessageRunes = 500
)

// CognitoName is the trigger's name in Cognito's messages, e.g.
// "PreSignUp" in "PreSignUp failed with error ...".
func CognitoName(t identity.HookTrigger) string {
	switch t {
	case identity.TriggerPreSignUp:
		return "PreSignUp"
	case identity.TriggerPostConfirmation:
		return "PostConfirmation"
	case identity.TriggerPreTokenGeneration:
		return "PreTokenGeneration"
	case identity.TriggerCustomMessage:
		return "CustomMessage"
	case identity.TriggerUserMigration:
		return "UserMigration"
	}
	return string(t)
}

// Timeout returns the effective timeout of h: TimeoutMS, or
// DefaultTimeout when it is 0 or above the maximum.
func Timeout(h *identity.Hook) time.Duration {
	d := time.Duration(h.TimeoutMS) * time.Millisecond
	if d <= 0 || d > DefaultTimeout {
		return DefaultTimeout
	}
	return d
}

// ValidateURL checks a hook URL: absolute http or https with a host, no
// user info, no fragment, at most 2048 bytes. Any host is accepted here;
// which addresses a call may reach is the Client's network policy
// (network.go), decided when it connects.
//
// Errors: *identity.Error with CodeInvalidParameter and Field "url".
func ValidateURL(raw string) error {
	bad := func(msg string) error { return identity.FieldError("url", "%s", msg) }
	if raw == "" {
		return bad("A hook URL is required.")
	}
	if len(raw) > 2048 {
		return bad("The hook URL is too long.")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("The hook URL is not a valid URL.")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("The hook URL must use http or https.")
	case u.Host == "" || u.Hostname() == "":
		return bad("The hook URL must name a host.")
	case u.User != nil:
		return bad("The hook URL must not carry credentials; the request is signed instead.")
	case u.Fragment != "":
		return bad("The hook URL must not have a fragment.")
	}
	return nil
}

// Kind says how a hook call failed.
type Kind int

const (
	// KindUnexpected: no usable answer (timeout, connection error,
	// redirect, 5xx or another unexpected status). Cognito:
	// UnexpectedLambdaException.
	KindUnexpected Kind = iota + 1
	// KindInvalidResponse: a 2xx answer that is oversize, not JSON, or
	// whose response does not decode. Cognito: InvalidLambdaResponseException.
	KindInvalidResponse
	// KindRejected: the hook refused (4xx with an error message).
	// Cognito: UserLambdaValidationException.
	KindRejected
)

// Error is a failed hook call.
type Error struct {
	Kind    Kind
	Trigger identity.HookTrigger
	Status  int    // HTTP status, 0 if none
	Message string // the hook's rejection message (KindRejected), sanitized
	Reason  string // short, safe cause: "timeout", "HTTP 500", "invalid JSON", ...
	Err     error  // the cause, for logs
}

func (e *Error) Error() string {
	s := fmt.Sprintf("hooks: %s: %s", e.Trigger, e.Reason)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Identity returns the error callers see, in Cognito's forms:
// user_lambda_validation "<Trigger> failed with error <message>.",
// unexpected_lambda "<Trigger> invocation failed due to error <reason>.",
// invalid_lambda_response "Unrecognizable lambda output from <Trigger>: <reason>.".
func (e *Error) Identity() *identity.Error {
	name := CognitoName(e.Trigger)
	switch e.Kind {
	case KindRejected:
		return &identity.Error{Code: identity.CodeUserLambdaValidation, Message: name + " failed with error " + e.Message + ".", Err: e}
	case KindInvalidResponse:
		return &identity.Error{Code: identity.CodeInvalidLambdaResponse, Message: "Unrecognizable lambda output from " + name + ": " + e.Reason + ".", Err: e}
	default:
		return &identity.Error{Code: identity.CodeUnexpectedLambda, Message: name + " invocation failed due to error " + e.Reason + ".", Err: e}
	}
}

// Options configure a Client.
type Options struct {
	// Transport sends the requests; nil: a dedicated http.Transport that
	// applies the outbound network policy (AllowedNetworks, AllowedHosts)
	// and takes its proxy from Proxy. A Transport given here is used as
	// is: the network policy is then its business.
	Transport http.RoundTripper
	// AllowedNetworks are address prefixes hooks may connect to although
	// DeniedNetworks covers them (self-hosted hook receivers on a private
	// network or on the same host). Empty: none.
	AllowedNetworks []netip.Prefix
	// AllowedHosts are host names hooks may connect to whatever their
	// addresses (exact, case-insensitive).
	AllowedHosts []string
	// Proxy picks the proxy of a request (nil: http.ProxyFromEnvironment,
	// so egress can be routed through a filtering proxy). The proxy itself
	// is dialled without the address check.
	Proxy func(*http.Request) (*url.URL, error)
	// Resolver resolves hook hosts before a proxied request (nil:
	// net.DefaultResolver).
	Resolver *net.Resolver
	// Now stamps signatures (time.Now when nil).
	Now func() time.Time
	// UserAgent is sent as User-Agent ("Gatehouse-Hooks/1" when empty).
	UserAgent string
}

// Client calls hooks. It is safe for concurrent use.
type Client struct {
	http     *http.Client
	now      func() time.Time
	ua       string
	policy   *netPolicy // nil with a caller's Transport
	proxy    func(*http.Request) (*url.URL, error)
	resolver *net.Resolver
}

// New returns a Client.
func New(o Options) *Client {
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	tr := o.Transport
	var policy *netPolicy
	if tr == nil {
		policy = newNetPolicy(o.AllowedNetworks, o.AllowedHosts)
		d := &net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second, ControlContext: policy.control}
		tr = &http.Transport{
			Proxy:                 o.Proxy,
			DialContext:           policy.dialContext(d),
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   DefaultTimeout,
			ResponseHeaderTimeout: DefaultTimeout,
			ForceAttemptHTTP2:     true,
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UserAgent == "" {
		o.UserAgent = "Gatehouse-Hooks/1"
	}
	return &Client{
		http: &http.Client{
			Transport: tr,
			// Never follow redirects: the configured URL is the only target.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:      o.Now,
		ua:       o.UserAgent,
		policy:   policy,
		proxy:    o.Proxy,
		resolver: o.Resolver,
	}
}

// Call is one hook invocation.
type Call struct {
	Hook    *identity.Hook
	Trigger identity.HookTrigger
	// Source is the event's triggerSource, sent as X-Gatehouse-Trigger.
	Source string
	// DeliveryID identifies the event; it stays the same when a durable
	// event is retried, so receivers can drop duplicates.
	DeliveryID string
	// Event is marshalled as the request body.
	Event any
	// Response, if not nil, receives the answer's "response" object,
	// decoded strictly (unknown fields are an invalid response).
	Response any
}

// Result describes a completed exchange.
type Result struct {
	Status  int
	Latency time.Duration
}

// Do sends c and decodes the answer. The Result is returned even with an
// error when an HTTP answer arrived (for the "send test event" report).
//
// Errors: *Error (see Kind); an error encoding the event.
func (cl *Client) Do(ctx context.Context, c Call) (res *Result, err error) {
	start := time.Now()
	defer func() {
		calls.WithLabelValues(string(c.Trigger), outcome(err)).Inc()
		callSeconds.WithLabelValues(string(c.Trigger)).Observe(time.Since(start).Seconds())
	}()
	return cl.do(ctx, c)
}

func (cl *Client) do(ctx context.Context, c Call) (*Result, error) {
	body, err := json.Marshal(c.Event)
	if err != nil {
		return nil, fmt.Errorf("hooks: encode %s event: %w", c.Trigger, err)
	}
	fail := func(k Kind, status int, reason string, err error) *Error {
		return &Error{Kind: k, Trigger: c.Trigger, Status: status, Reason: reason, Err: err}
	}
	if c.Hook == nil || c.Hook.URL == "" {
		return nil, fail(KindUnexpected, 0, "NoHookConfigured", nil)
	}
	if err := ValidateURL(c.Hook.URL); err != nil {
		return nil, fail(KindUnexpected, 0, "InvalidHookURL", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout(c.Hook))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Hook.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fail(KindUnexpected, 0, "InvalidHookURL", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", cl.ua)
	id := c.DeliveryID
	if id == "" {
		if id, err = newDeliveryID(); err != nil {
			return nil, fmt.Errorf("hooks: delivery id: %w", err)
		}
	}
	SetSignatureHeaders(req.Header, c.Hook.Secret, id, cl.now(), body)
	req.Header.Set(TriggerHeader, c.Source)
	start := time.Now()
	resp, err := cl.send(req)
	if err != nil {
		reason := "ConnectionError"
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			reason = "Timeout"
		}
		return nil, fail(KindUnexpected, 0, reason, err)
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	res := &Result{Status: resp.StatusCode, Latency: time.Since(start)}
	if rerr != nil {
		reason := "ReadError"
		if errors.Is(rerr, context.DeadlineExceeded) || isTimeout(rerr) {
			reason = "Timeout"
		}
		return res, fail(KindUnexpected, resp.StatusCode, reason, rerr)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		if msg := rejectionMessage(raw); msg != "" {
			e := fail(KindRejected, resp.StatusCode, "Rejected", nil)
			e.Message = msg
			return res, e
		}
		return res, fail(KindUnexpected, resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode), nil)
	default:
		return res, fail(KindUnexpected, resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode), nil)
	}
	if c.Response == nil {
		return res, nil // the answer's body does not matter (post_confirmation)
	}
	if len(raw) > MaxResponseBytes {
		return res, fail(KindInvalidResponse, resp.StatusCode, fmt.Sprintf("response larger than %d bytes", MaxResponseBytes), nil)
	}
	if err := decodeResponse(raw, c.Response); err != nil {
		return res, fail(KindInvalidResponse, resp.StatusCode, err.Error(), err)
	}
	return res, nil
}

// send sends req under the outbound network policy: through a proxy, the
// target's host is checked here and the dialer lets the proxy through;
// otherwise the dialer checks the dialled address.
func (cl *Client) send(req *http.Request) (*http.Response, error) {
	if cl.policy != nil {
		if pu, perr := cl.proxy(req); perr == nil && pu != nil {
			if err := cl.policy.checkProxied(req.Context(), cl.resolver, req.URL); err != nil {
				return nil, err
			}
			req = req.WithContext(context.WithValue(req.Context(), proxyAddrKey{}, proxyAddr(pu)))
		}
	}
	return cl.http.Do(req)
}

// PostForm POSTs form (application/x-www-form-urlencoded) to target, an
// http(s) URL, under the hooks' outbound network policy, with no
// redirects followed and DefaultTimeout as the deadline, and returns the
// answer's status (its body is read up to MaxResponseBytes and dropped).
// For deliveries that are not hook events: OpenID Connect Back-Channel
// Logout tokens (internal/auth). Errors: a bad URL, a refused address, a
// connection or timeout error.
func (cl *Client) PostForm(ctx context.Context, target string, form url.Values) (int, error) {
	if err := ValidateURL(target); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", cl.ua)
	resp, err := cl.send(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBytes))
	return resp.StatusCode, nil
}

// Get GETs target, an http(s) URL, under the hooks' outbound network
// policy, with no redirects followed and DefaultTimeout as the deadline,
// and returns the body of a 200 answer, at most max bytes (a longer one is
// an error). For documents an admin points Gatehouse at: SAML IdP
// metadata (internal/auth). Errors: a bad URL, a refused address, a
// connection or timeout error, another status, an oversized body.
func (cl *Client) Get(ctx context.Context, target string, max int64) ([]byte, error) {
	if err := ValidateURL(target); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", cl.ua)
	resp, err := cl.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// decodeResponse decodes the "response" member of the answer raw into out
// (when out is not nil). An empty body is "no changes".
func decodeResponse(raw []byte, out any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] != '{' {
		return errors.New("the answer is not a JSON object")
	}
	var env struct {
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return errors.New("the answer is not valid JSON")
	}
	if out == nil || len(env.Response) == 0 || string(env.Response) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(env.Response))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return fmt.Errorf("response field %s has the wrong type", ute.Field)
		}
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return fmt.Errorf("unknown response field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return errors.New("the response does not decode")
	}
	return nil
}

// rejectionMessage extracts the error message of a 4xx answer: JSON with
// a string errorMessage (Lambda's error shape) or message.
func rejectionMessage(raw []byte) string {
	var m struct {
		ErrorMessage *string `json:"errorMessage"`
		Message      *string `json:"message"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	msg := ""
	switch {
	case m.ErrorMessage != nil:
		msg = *m.ErrorMessage
	case m.Message != nil:
		msg = *m.Message
	}
	return sanitize(msg)
}

// sanitize drops control characters, collapses whitespace and caps the
// length of a message that will be shown to callers.
func sanitize(s string) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		if n >= MaxMessageRunes {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(strings.TrimSuffix(b.String(), "."), " ")
}

// newDeliveryID returns a random delivery id for a call that names none.
func newDeliveryID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "msg_" + hex.EncodeToString(b), nil
}
