package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
)

// Compact JWS parsing and signature checks (Verify, jwt.go).
//
// Written out rather than through go-jose, whose parser allocates a
// generic header map, sanitizes it and copies the payload: on a GetUser
// that was two fifths of the request's allocations. What is accepted is
// narrower than go-jose accepts and never wider:
//   - exactly three base64url segments without padding, decoded strictly
//     (no non-zero trailing bits: one token has one spelling, as low-s
//     ECDSA gives it one signature, lows.go);
//   - a protected header that is a JSON object of at most maxHeaderLen
//     bytes, with no "crit" and no "b64" member (Gatehouse issues
//     neither; go-jose refuses unknown critical headers too), and a
//     string "typ" if any;
//   - ES256: a 64-byte r || s signature; RS256: PKCS #1 v1.5 with SHA-256.
//
// Key material in the header (jwk, jku, x5u, x5c) is never read; the key
// is the pool's, found by kid, and its algorithm must be the header's.
// Member names match as encoding/json matches them (case-insensitively,
// the last of duplicates wins); only a token signed with one of the
// pool's keys passes, so that reading accepts nothing Gatehouse did not
// sign.

// maxHeaderLen bounds the decoded protected header.
const maxHeaderLen = 1024

var b64Strict = b64.Strict()

// jwsHeader is the protected header members Verify reads.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  json.RawMessage `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// typ returns the typ member and whether it is present; a typ that is
// not a string (null included) is returned as "", which no check accepts.
func (h *jwsHeader) typ() (string, bool) {
	if h.Typ == nil {
		return "", false
	}
	var t string
	if json.Unmarshal(h.Typ, &t) != nil {
		return "", true
	}
	return t, true
}

// parseCompact splits and decodes a compact JWS: its header, the signed
// input (header.payload as sent), the payload and the signature.
func parseCompact(raw string) (hdr *jwsHeader, signed string, payload, sig []byte, err error) {
	h, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return nil, "", nil, nil, errors.New("not a compact JWS")
	}
	p, s, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(s, '.') >= 0 || h == "" || s == "" {
		return nil, "", nil, nil, errors.New("not a compact JWS")
	}
	if b64.DecodedLen(len(h)) > maxHeaderLen {
		return nil, "", nil, nil, errors.New("header too large")
	}
	hb, err := b64Strict.DecodeString(h)
	if err != nil {
		return nil, "", nil, nil, errors.New("header is not base64url")
	}
	if len(hb) == 0 || hb[0] != '{' {
		return nil, "", nil, nil, errors.New("header is not a JSON object")
	}
	hdr = new(jwsHeader)
	if err := json.Unmarshal(hb, hdr); err != nil {
		return nil, "", nil, nil, errors.New("header is not valid JSON")
	}
	if hdr.Crit != nil || hdr.B64 != nil {
		return nil, "", nil, nil, errors.New("crit or b64 header")
	}
	if payload, err = b64Strict.DecodeString(p); err != nil {
		return nil, "", nil, nil, errors.New("payload is not base64url")
	}
	if sig, err = b64Strict.DecodeString(s); err != nil {
		return nil, "", nil, nil, errors.New("signature is not base64url")
	}
	return hdr, raw[:len(h)+1+len(p)], payload, sig, nil
}

// verifySignature checks sig over signed with pub under alg.
func verifySignature(alg string, pub crypto.PublicKey, signed string, sig []byte) error {
	digest := sha256.Sum256([]byte(signed))
	switch alg {
	case AlgES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || len(sig) != 64 {
			return errors.New("not an ES256 signature")
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, digest[:], r, s) {
			return errors.New("bad signature")
		}
		return nil
	case AlgRS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return errors.New("not an RSA key")
		}
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig)
	}
	return errors.New("algorithm not allowed")
}
