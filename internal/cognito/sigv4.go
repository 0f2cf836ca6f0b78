package cognito

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AccessKey is an access key pair allowed to call the signed (admin)
// operations. The secret is compared only through HMAC.
type AccessKey struct {
	ID     string
	Secret string
}

// SigV4 constants (AWS Signature Version 4).
const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	sigService     = "cognito-idp"
	sigTerminator  = "aws4_request"
	amzDateLayout  = "20060102T150405Z"
	scopeDayLayout = "20060102"
	// MaxClockSkew is how far X-Amz-Date may be from the server's clock,
	// as on AWS.
	MaxClockSkew = 5 * time.Minute
)

var (
	accessKeyIDRE = regexp.MustCompile(`^[A-Za-z0-9+/=._-]{1,128}$`)
	sigRegionRE   = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	hexSigRE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// sigError is a refusal of the request's signature, with AWS's exception
// name (sent as __type) and message.
type sigError struct {
	Type    string
	Message string
}

func (e *sigError) Error() string { return e.Type + ": " + e.Message }

func errMissingAuth() *sigError {
	return &sigError{"MissingAuthenticationTokenException", "Missing Authentication Token"}
}

func errIncomplete(msg string) *sigError {
	return &sigError{"IncompleteSignatureException", msg}
}

func errUnknownKey() *sigError {
	return &sigError{"UnrecognizedClientException", "The security token included in the request is invalid."}
}

func errBadSignature() *sigError {
	return &sigError{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
}

// signedRequest is what verifySigV4 learned from a valid signature.
type signedRequest struct {
	AccessKeyID string
	Region      string
}

// parsedAuth is the Authorization header's parts.
type parsedAuth struct {
	keyID, day, region, service, terminator string
	signedHeaders                           []string
	signature                               string
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/cognito-idp/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (*parsedAuth, *sigError) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != sigAlgorithm {
		return nil, errIncomplete("Authorization header requires the " + sigAlgorithm + " algorithm.")
	}
	var pa parsedAuth
	var cred, signed string
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errIncomplete("Authorization header is malformed.")
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			pa.signature = v
		default:
			return nil, errIncomplete("Authorization header has an unknown part " + strconv.Quote(k) + ".")
		}
	}
	if cred == "" || signed == "" || pa.signature == "" {
		return nil, errIncomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return nil, errIncomplete("Credential should be scoped to a valid region, like: <access key>/<date>/<region>/cognito-idp/aws4_request.")
	}
	pa.keyID, pa.day, pa.region, pa.service, pa.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	if !accessKeyIDRE.MatchString(pa.keyID) {
		return nil, errUnknownKey()
	}
	if !hexSigRE.MatchString(pa.signature) {
		return nil, errBadSignature()
	}
	pa.signedHeaders = strings.Split(signed, ";")
	for i, name := range pa.signedHeaders {
		if name == "" || name != strings.ToLower(name) || (i > 0 && pa.signedHeaders[i-1] >= name) {
			return nil, errIncomplete("SignedHeaders must be lower-case header names, sorted, separated by ';'.")
		}
	}
	return &pa, nil
}

// verifySigV4 checks the request's AWS Signature Version 4 (Authorization
// header form) against keys: the algorithm, the credential scope
// (<day>/<region>/cognito-idp/aws4_request, day matching X-Amz-Date), the
// date within MaxClockSkew of now, the signed headers (host, x-amz-date and
// x-amz-target at least), the payload hash (X-Amz-Content-Sha256 when sent
// must equal the body's SHA-256; UNSIGNED-PAYLOAD is refused), and the
// signature itself, compared in constant time. body is the whole request
// body, already read.
//
// Errors carry AWS's names: MissingAuthenticationTokenException (no
// Authorization header), IncompleteSignatureException (malformed header or
// scope, a required header not signed), UnrecognizedClientException (unknown
// access key), InvalidSignatureException (wrong signature, wrong payload
// hash, or a date outside the allowed skew: "Signature expired").
func verifySigV4(r *http.Request, body []byte, keys map[string]string, now time.Time) (*signedRequest, *sigError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errMissingAuth()
	}
	pa, serr := parseAuthorization(h)
	if serr != nil {
		return nil, serr
	}
	if pa.service != sigService || pa.terminator != sigTerminator {
		return nil, errIncomplete("Credential should be scoped to correct service: 'cognito-idp'.")
	}
	if !sigRegionRE.MatchString(pa.region) {
		return nil, errIncomplete("Credential should be scoped to a valid region.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	dateHeader := "x-amz-date"
	if amzDate == "" {
		amzDate, dateHeader = r.Header.Get("Date"), "date"
	}
	if amzDate == "" {
		return nil, errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil && dateHeader == "date" {
		t, err = http.ParseTime(amzDate)
		if err == nil {
			amzDate = t.UTC().Format(amzDateLayout)
		}
	}
	if err != nil {
		return nil, errIncomplete("X-Amz-Date must be in the ISO 8601 basic format, e.g. 20261122T013729Z.")
	}
	if pa.day != t.Format(scopeDayLayout) {
		return nil, errBadSignature()
	}
	if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return nil, &sigError{"InvalidSignatureException", "Signature expired: " + amzDate + " is now earlier than " +
			now.Add(-MaxClockSkew).UTC().Format(amzDateLayout) + " (" + now.UTC().Format(amzDateLayout) + " - 5 min.)"}
	}
	for _, need := range []string{"host", dateHeader, "x-amz-target"} {
		if !contains(pa.signedHeaders, need) {
			return nil, errIncomplete("The header '" + need + "' must be signed.")
		}
	}
	secret, ok := keys[pa.keyID]
	if !ok {
		return nil, errUnknownKey()
	}
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" && ph != bodyHash {
		return nil, errBadSignature()
	}
	creq := canonicalRequest(r, pa.signedHeaders, bodyHash)
	scope := pa.day + "/" + pa.region + "/" + sigService + "/" + sigTerminator
	crHash := sha256.Sum256([]byte(creq))
	sts := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	k := hmacSHA256([]byte("AWS4"+secret), pa.day)
	k = hmacSHA256(k, pa.region)
	k = hmacSHA256(k, sigService)
	k = hmacSHA256(k, sigTerminator)
	want := hex.EncodeToString(hmacSHA256(k, sts))
	if subtle.ConstantTimeCompare([]byte(want), []byte(pa.signature)) != 1 {
		return nil, errBadSignature()
	}
	return &signedRequest{AccessKeyID: pa.keyID, Region: pa.region}, nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// canonicalRequest builds SigV4's canonical request:
// method, canonical URI, canonical query, canonical headers, signed
// headers, payload hash, one per line.
func canonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI is the path URI-encoded twice, as every AWS service but S3
// signs it: the escaped path, each byte outside the unreserved set then
// percent-encoded again ('/' kept).
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts the query parameters by name, then value, each
// URI-encoded.
func canonicalQuery(u *url.URL) string {
	q := u.Query()
	if len(q) == 0 {
		return ""
	}
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// canonicalHeaderValue joins the header's values with ',' after trimming
// each and collapsing inner runs of spaces. Host and Content-Length come
// from the request fields Go moves them to.
func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// uriEncode percent-encodes every byte but the unreserved ones
// (A-Z a-z 0-9 - . _ ~), and '/' unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
