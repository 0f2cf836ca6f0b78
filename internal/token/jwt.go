package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const (
	// MaxTokenSize is the largest token Verify will look at, in bytes.
	// Gatehouse's own tokens are far smaller; the cap is checked before any
	// parsing (go-jose CVE-2025-27144, golang-jwt CVE-2025-30204).
	MaxTokenSize = 16 << 10
	// Leeway tolerates clock skew between nodes for nbf and iat. exp is
	// checked strictly.
	Leeway = 30 * time.Second
	// maxKIDLen bounds the kid header we look up.
	maxKIDLen = 128
)

var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// invalidToken returns the CodeInvalidToken error with a safe message; why
// is for logs only.
func invalidToken(msg string, why error) error {
	return &identity.Error{Code: identity.CodeInvalidToken, Message: msg, Err: why}
}

const msgInvalid = "Invalid token."

// Sign signs claims with pool's active key and returns a compact JWS whose
// protected header holds alg, kid and typ "JWT". If the pool has no active
// key yet, Sign creates one (EnsureKey). The caller sets every claim
// (iss, sub, aud, exp, iat, token_use, ...). Errors: CodeInvalidParameter
// if claims cannot be encoded as JSON, CodeInternal otherwise.
func (m *Manager) Sign(ctx context.Context, pool *identity.Pool, claims map[string]any) (string, error) {
	alg, err := poolAlg(pool)
	if err != nil {
		return "", err
	}
	return m.SignAs(ctx, pool, alg, claims)
}

// SignAs is Sign with the pool's active key of alg (ES256 or RS256; ""
// is the pool's SigningAlg), creating the pool's keys of alg (an active
// and a next one, both published in the JWKS) on first use. Errors: those
// of Sign, CodeInvalidParameter for another alg.
func (m *Manager) SignAs(ctx context.Context, pool *identity.Pool, alg string, claims map[string]any) (string, error) {
	return m.SignTyped(ctx, pool, alg, "JWT", claims)
}

// SignTyped is SignAs with the protected header's typ set to typ instead
// of "JWT": "logout+jwt" for Back-Channel Logout 1.0 §2.4 logout tokens,
// which Verify then refuses (no logout token passes for an ID or access
// token). Errors: those of SignAs, CodeInvalidParameter for an empty typ.
func (m *Manager) SignTyped(ctx context.Context, pool *identity.Pool, alg, typ string, claims map[string]any) (string, error) {
	if typ == "" {
		return "", &identity.Error{Code: identity.CodeInvalidParameter, Message: "A token type is required."}
	}
	if alg == "" {
		var err error
		if alg, err = poolAlg(pool); err != nil {
			return "", err
		}
	}
	if err := CheckAlg(alg); err != nil {
		return "", err
	}
	payload, err := marshalClaims(claims)
	if err != nil {
		return "", &identity.Error{Code: identity.CodeInvalidParameter, Message: "Claims cannot be encoded.", Err: err}
	}
	ks, err := m.keys(ctx, pool.ID, false)
	if err != nil {
		return "", err
	}
	active := firstOf(ks, alg, identity.KeyActive)
	if active == nil {
		if err := m.ensureAlg(ctx, pool, alg); err != nil {
			return "", err
		}
		// ensureAlg left the key in the database: read it there, not from
		// a cache another request may have filled just before it.
		if ks, err = m.load(ctx, m.st, pool.ID, m.now()); err != nil {
			return "", err
		}
		if active = firstOf(ks, alg, identity.KeyActive); active == nil {
			return "", internalErr(errors.New("token: pool has no active signing key"))
		}
	}
	priv, err := m.privateKey(active)
	if err != nil {
		return "", internalErr(err)
	}
	s, err := signCompact(active.rec.Alg, active.rec.KID, typ, priv, payload)
	if err != nil {
		return "", internalErr(err)
	}
	return s, nil
}

// Verify checks raw, a compact JWS, against pool's published keys and
// returns its claims. In order, it refuses a token that:
//   - is longer than MaxTokenSize or does not have exactly two dots (before
//     any parsing);
//   - has an alg other than ES256 or RS256 (so never "none" or HS*), or
//     one that differs from the alg of the key it names;
//   - has a typ header other than "JWT" (a logout token, SignTyped);
//   - is ES256 with a high s (s > n/2: the malleable twin of a valid
//     signature; Sign issues only the low form, lows.go);
//   - names a kid that is not one of the pool's active, next or retired
//     (until RemoveAfter) keys: on an unknown kid the keys are re-read from
//     the store, at most once per second per pool, to see a rotation made
//     by another node;
//   - fails signature verification with that key (jku, x5u, jwk and x5c
//     headers are never used to find a key);
//   - has a payload that is not a JSON object;
//   - lacks a numeric exp, or now >= exp ("Token expired.");
//   - has nbf later than now + Leeway, or iat later than now + Leeway;
//   - has iss different from issuer (an empty issuer matches nothing).
//
// Numbers in the returned claims are float64 (encoding/json's default),
// strings are string, arrays []any, objects map[string]any.
//
// Every refusal is an *identity.Error with CodeInvalidToken and the message
// "Invalid token." or "Token expired."; storage failures are CodeInternal.
func (m *Manager) Verify(ctx context.Context, pool *identity.Pool, raw, issuer string) (map[string]any, error) {
	return m.verify(ctx, pool, raw, issuer, false)
}

// VerifyExpired is Verify except that an expired token passes: for hints
// (OpenID Connect RP-Initiated Logout §2: the OP should accept an expired
// id_token_hint) and for RFC 7009 revocation, where an expired token
// still names the sign-in to end. Every other check is Verify's.
func (m *Manager) VerifyExpired(ctx context.Context, pool *identity.Pool, raw, issuer string) (map[string]any, error) {
	return m.verify(ctx, pool, raw, issuer, true)
}

func (m *Manager) verify(ctx context.Context, pool *identity.Pool, raw, issuer string, allowExpired bool) (map[string]any, error) {
	if len(raw) > MaxTokenSize {
		return nil, invalidToken(msgInvalid, errors.New("token too large"))
	}
	if strings.Count(raw, ".") != 2 {
		return nil, invalidToken(msgInvalid, errors.New("not a compact JWS"))
	}
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs)
	if err != nil {
		return nil, invalidToken(msgInvalid, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalidToken(msgInvalid, errors.New("expected one signature"))
	}
	hdr := jws.Signatures[0].Protected
	kid, alg := hdr.KeyID, hdr.Algorithm
	if kid == "" || len(kid) > maxKIDLen {
		return nil, invalidToken(msgInvalid, errors.New("missing or oversized kid"))
	}
	if alg != AlgES256 && alg != AlgRS256 {
		return nil, invalidToken(msgInvalid, errors.New("algorithm not allowed"))
	}
	if typ, present := hdr.ExtraHeaders[jose.HeaderType]; present && !strings.EqualFold(fmt.Sprint(typ), "JWT") {
		// A logout+jwt (SignTyped) or any other typed token is never an
		// ID or access token.
		return nil, invalidToken(msgInvalid, errors.New("typ is not JWT"))
	}
	k, err := m.findKey(ctx, pool.ID, kid)
	if err != nil {
		return nil, err
	}
	if k.rec.Alg != alg {
		return nil, invalidToken(msgInvalid, errors.New("alg does not match the key"))
	}
	if alg == AlgES256 && !isLowS(jws.Signatures[0].Signature) {
		return nil, invalidToken(msgInvalid, errors.New("ECDSA signature with a high s"))
	}
	// Pass the bare public key: go-jose then ignores any key material in
	// the header.
	payload, err := jws.Verify(k.public)
	if err != nil {
		return nil, invalidToken(msgInvalid, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, invalidToken(msgInvalid, errors.New("payload is not a JSON object"))
	}
	now := m.now()
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return nil, invalidToken(msgInvalid, errors.New("missing exp"))
	}
	if !now.Before(exp) && !allowExpired {
		return nil, invalidToken("Token expired.", nil)
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok || nbf.After(now.Add(Leeway)) {
			return nil, invalidToken(msgInvalid, errors.New("nbf in the future"))
		}
	}
	if v, present := claims["iat"]; present {
		iat, ok := numericDate(v)
		if !ok || iat.After(now.Add(Leeway)) {
			return nil, invalidToken(msgInvalid, errors.New("iat in the future"))
		}
	}
	iss, _ := claims["iss"].(string)
	if issuer == "" || iss != issuer {
		return nil, invalidToken(msgInvalid, errors.New("wrong issuer"))
	}
	return claims, nil
}

// findKey returns the pool's key with that kid, re-reading the store once
// (rate-limited) if it is not in the cache.
func (m *Manager) findKey(ctx context.Context, poolID, kid string) (*key, error) {
	for attempt := 0; attempt < 2; attempt++ {
		ks, err := m.keys(ctx, poolID, attempt == 1)
		if err != nil {
			return nil, err
		}
		now := m.now()
		for _, k := range ks {
			if k.rec.KID != kid {
				continue
			}
			if k.rec.State == identity.KeyRetired && !k.rec.RemoveAfter.IsZero() && !now.Before(k.rec.RemoveAfter) {
				return nil, invalidToken(msgInvalid, errors.New("key removed"))
			}
			return k, nil
		}
	}
	return nil, invalidToken(msgInvalid, errors.New("unknown kid"))
}

// numericDate reads a JSON number of seconds since the epoch.
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
