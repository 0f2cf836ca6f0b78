package cognito

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const (
	contentType  = "application/x-amz-json-1.1"
	targetPrefix = "AWSCognitoIdentityProviderService."
	// DefaultMaxBodyBytes caps request bodies when Options.MaxBodyBytes is 0.
	DefaultMaxBodyBytes = 1 << 20
)

// MountPattern is the ServeMux pattern the handler is mounted under:
//
//	mux.Handle(cognito.MountPattern, h)
//
// It matches the path "/" for every method: POST with X-Amz-Target is a
// Cognito call, OPTIONS a CORS preflight (browsers, as Cognito answers
// them), anything else 404 as if nothing were mounted there.
const MountPattern = "/{$}"

// Options configure the Cognito surface.
type Options struct {
	// AccessKeys may call the signed (admin) operations. With none, every
	// signed operation is refused (UnrecognizedClientException).
	AccessKeys []AccessKey
	// AccountID goes into ARNs (arn:aws:cognito-idp:<region>:<account>:userpool/<id>);
	// default "000000000000".
	AccountID string
	// AllowAdmin, when set, is asked before a signed operation is
	// verified; false answers AccessDeniedException (the server's
	// admin.allow_from).
	AllowAdmin   func(*http.Request) bool
	Log          *slog.Logger // default slog.Default()
	MaxBodyBytes int64        // default DefaultMaxBodyBytes
	Now          func() time.Time
	// Lambdas maps Lambda function ARNs to the webhooks that stand for
	// them, for LambdaConfig in CreateUserPool and UpdateUserPool.
	Lambdas map[string]LambdaTarget
	// DomainSuffix makes CreateUserPoolDomain's prefix domains: the prefix
	// p becomes the host p.<DomainSuffix>. Empty: prefix domains are
	// refused.
	DomainSuffix string
	// DomainTarget is the host custom domains point their DNS at (Cognito's
	// CloudFrontDomain): Gatehouse's own public host.
	DomainTarget string
}

// Handler serves Cognito's JSON 1.1 protocol. Create it with New.
type Handler struct {
	svc  *auth.Service
	opts Options
	keys map[string]string
}

// New returns the Cognito surface over svc. It expects to run behind
// httpserver.Wrap (request id, client IP) but works without it.
func New(svc *auth.Service, opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	keys := make(map[string]string, len(opts.AccessKeys))
	for _, k := range opts.AccessKeys {
		if k.ID != "" && k.Secret != "" {
			keys[k.ID] = k.Secret
		}
	}
	return &Handler{svc: svc, opts: opts, keys: keys}
}

// operation is one X-Amz-Target: whether it needs SigV4, and its handler,
// which decodes the body into its input struct and returns the output
// value to encode.
type operation struct {
	signed bool
	fn     func(h *Handler, c *call) (any, error)
}

// call is one request in flight.
type call struct {
	op     string // the operation's name (X-Amz-Target without the prefix)
	ctx    context.Context
	r      *http.Request
	body   []byte
	region string // the SigV4 scope's region (signed operations)
	meta   auth.RequestMeta
}

// decode unmarshals the body into v; an empty body is {}. Unknown members
// are ignored (as AWS does, so newer SDKs work). A body that is not JSON,
// or a member of the wrong JSON type ("Limit": "10", "UserAttributes":
// "x", an object where a string belongs), is SerializationException, as
// AWS answers it (serializationError); the caller returns before using v,
// so nothing is half-applied. Then a required member (requiredMembers)
// left out or null is InvalidParameterException in AWS's words.
func (c *call) decode(v any) error {
	b := bytes.TrimSpace(c.body)
	if len(b) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return serializationError(err)
	}
	return c.checkRequired(b)
}

// checkRequired lists the required members of c.op that b leaves out or
// sends as null, as AWS's validation does ("2 validation errors detected:
// Value null at 'clientId' failed to satisfy constraint: Member must not
// be null; Value null at ...").
func (c *call) checkRequired(b []byte) error {
	req := requiredMembers[c.op]
	if len(req) == 0 {
		return nil
	}
	present := presentMembers(b, req)
	var missing []string
	for i, name := range req {
		if present&(1<<i) == 0 {
			missing = append(missing, "Value null at '"+strings.ToLower(name[:1])+name[1:]+"' failed to satisfy constraint: Member must not be null")
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return identity.FieldError(req[0], "1 validation error detected: %s", missing[0])
	}
	return identity.FieldError(req[0], "%d validation errors detected: %s", len(missing), strings.Join(missing, "; "))
}

// presentMembers reports, as bit i, whether names[i] (at most 64) is a
// member of the JSON object b with a value other than null. b is known to
// be valid JSON (it was just decoded); the scan reads the top-level member
// names in place, without allocating, because it runs on every request.
func presentMembers(b []byte, names []string) uint64 {
	var present uint64
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return present // '}' or the end
		}
		end := skipString(b, i)
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ':' {
			i = skipSpace(b, i+1)
		}
		isNull := bytes.HasPrefix(b[i:], []byte("null"))
		for j, n := range names {
			if j < 64 && !isNull && string(key) == n {
				present |= 1 << j
			}
		}
		i = skipSpace(b, skipValue(b, i))
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// serializationError words a decoding failure as AWS's JSON protocol does
// (its Coral framework's messages, where they are known: "Expected map or
// null", "Start of structure or map found where not expected.", "class
// com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be
// converted to an String").
func serializationError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return &serialError{"Malformed request body: it is not a JSON object."}
	}
	got := te.Value
	if strings.HasPrefix(got, "number") {
		got = "number"
	}
	want := te.Type.Kind()
	switch {
	case got == "object" && want != reflect.Map && want != reflect.Struct:
		return &serialError{"Start of structure or map found where not expected."}
	case got == "array" && want != reflect.Slice:
		return &serialError{"Start of list found where not expected."}
	case want == reflect.Slice:
		return &serialError{"Expected list or null"}
	case want == reflect.Map || want == reflect.Struct:
		return &serialError{"Expected map or null"}
	}
	var from, to string
	switch got {
	case "string":
		from = "STRING_VALUE"
	case "number":
		from = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	case "bool":
		from = "class java.lang.Boolean"
	default:
		from = got
	}
	switch want {
	case reflect.String:
		to = "an String"
	case reflect.Bool:
		to = "a Boolean"
	case reflect.Float32, reflect.Float64:
		to = "a Double"
	default:
		to = "an Integer"
	}
	if got == "number" && want != reflect.String && want != reflect.Bool {
		// A number out of the member's range (a fraction, too big).
		return &serialError{"NUMBER_VALUE can not be converted to " + to}
	}
	return &serialError{from + " can not be converted to " + to}
}

// serialError is SerializationException: the request could not be read as
// the operation's input. AWS sends its message as "Message".
type serialError struct{ msg string }

func (e *serialError) Error() string { return "SerializationException: " + e.msg }

// ServeHTTP dispatches on X-Amz-Target. Requests without the header, and
// methods other than POST (and OPTIONS preflights), get 404, as any other
// unknown route.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case r.Method == http.MethodOptions && r.Header.Get("Origin") != "":
		cors(w, r)
		w.WriteHeader(http.StatusOK)
		return
	case r.Method != http.MethodPost || target == "":
		http.NotFound(w, r)
		return
	}
	cors(w, r)
	reqID := httpserver.RequestID(r.Context())
	if reqID != "" {
		w.Header().Set("x-amzn-RequestId", reqID)
	}
	opName, ok := strings.CutPrefix(target, targetPrefix)
	if !ok || opName == "" {
		h.writeError(w, r, target, &unknownOperationError{op: safeOpName(target)})
		return
	}
	op, ok := operations[opName]
	if !ok {
		h.writeError(w, r, opName, &unknownOperationError{op: safeOpName(opName)})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			h.writeError(w, r, opName, identity.Errorf(identity.CodeInvalidParameter, "Content-Type must be %s.", contentType))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		if httpserver.IsBodyTooLarge(err) {
			h.writeError(w, r, opName, identity.Errorf(identity.CodePayloadTooLarge, "The request body is too large."))
			return
		}
		h.writeError(w, r, opName, identity.Errorf(identity.CodeInvalidParameter, "The request body could not be read."))
		return
	}
	meta := auth.RequestMeta{IP: httpserver.RemoteIP(r), UserAgent: r.UserAgent()}
	// Audited as via "cognito"; a user-token operation as the token's user
	// once the service verified it (identity.SetUser), else "system".
	ctx := identity.WithUserSlot(identity.WithVia(r.Context(), identity.ViaCognito), meta.IP)
	c := &call{op: opName, ctx: ctx, r: r, body: body, meta: meta}
	if op.signed {
		if h.opts.AllowAdmin != nil && !h.opts.AllowAdmin(r) {
			h.writeError(w, r, opName, &sigError{"AccessDeniedException", "The admin operations are not available from this address."})
			return
		}
		sr, serr := verifySigV4(r, body, h.keys, h.opts.Now())
		if serr != nil {
			h.writeError(w, r, opName, serr)
			return
		}
		c.region = sr.Region
		c.ctx = identity.WithActor(c.ctx, identity.Actor{ID: "sigv4:" + sr.AccessKeyID, IP: c.meta.IP})
	}
	out, err := op.fn(h, c)
	if err != nil {
		h.writeError(w, r, opName, err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, r, opName, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// safeOpName keeps an echoed operation name short and printable.
func safeOpName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// cors answers browsers as Cognito does: any origin, the headers the SDKs
// send. Credentials travel in the body or the SigV4 header, never cookies,
// so a wildcard origin exposes nothing a page could not already send.
func cors(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" {
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date")
	if r.Method == http.MethodOptions {
		hd.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		hd.Set("Access-Control-Allow-Headers", "authorization, content-type, x-amz-target, x-amz-date, x-amz-user-agent, x-amz-content-sha256, x-amz-security-token, amz-sdk-invocation-id, amz-sdk-request, cache-control")
		hd.Set("Access-Control-Max-Age", "86400")
	}
}
