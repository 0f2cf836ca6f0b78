package auth

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/srp"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// SRP sign-in (Cognito's USER_SRP_AUTH)
//
// Round one, InitiateAuth with USER_SRP_AUTH and AuthParameters USERNAME
// and SRP_A: the service draws b, computes B = k*v + g^b from the user's
// stored verifier, and answers the PASSWORD_VERIFIER challenge with
// SALT, SRP_B, USERNAME, USER_ID_FOR_SRP and SECRET_BLOCK. There is no
// server-side session: SECRET_BLOCK is the state (pool, client, sub, user
// id, A, b, the password fingerprint, expiry) sealed with Config.Secrets
// (AES-GCM under a key derived from the master key), so any node can take
// round two and nobody can read or forge it.
//
// Round two, RespondToAuthChallenge PASSWORD_VERIFIER with
// PASSWORD_CLAIM_SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE, TIMESTAMP and
// USERNAME: the service opens the block, checks that it is this pool's and
// client's and not expired, that TIMESTAMP (taken exactly as sent, e.g.
// "Sun Nov 22 01:37:29 UTC 2026") is within srpClockSkew of now, and that
// the password did not change meanwhile; then, under the sign-in throttle
// (throttle.go, so failures count and lock like wrong passwords),
// computes the session key and compares the signature in constant time.
// From there it is the password sign-in's tail (completeSignIn): status
// checks, NEW_PASSWORD_REQUIRED or tokens.
//
// An unknown user, or one without a verifier (imported hash, pool with SRP
// off when the password was set), gets a challenge that looks the same —
// a stable fake salt, a random B — when the pool prevents user-existence
// errors, and fails in round two with "Incorrect username or password.".
// Without that setting an unknown user gets user_not_found in round one.
//
// A replayed round two (same block, signature and timestamp) succeeds
// until the block expires (srpBlockTTL) unless the password changed; the
// window is the block's lifetime, as with Cognito's own blocks.

const (
	srpBlockTTL      = 5 * time.Minute
	srpClockSkew     = 5 * time.Minute
	srpBlockPurpose  = "gatehouse srp secret block v1"
	srpFakeSalt      = "gatehouse srp fake salt v1"
	maxSRPAHexLen    = 2048 // N is 768 hex digits; a little slack for leading zeros
	maxSecretBlock   = 4096
	maxSignatureLen  = 128
	maxTimestampLen  = 64
	srpServerExpSize = 32 // bytes of b
)

// srpTimestampLayouts are the forms clients send: amazon-cognito-identity-js
// and Amplify ("Sun Nov 2 01:37:29 UTC 2026", day not padded), Python and
// Go clients (day zero-padded, which _2 also accepts).
var srpTimestampLayouts = []string{"Mon Jan _2 15:04:05 MST 2006"}

// srpBlock is what SECRET_BLOCK carries, sealed.
type srpBlock struct {
	Pool     string `json:"p"`
	Client   string `json:"c"`
	Sub      string `json:"s,omitempty"` // "" for a fake challenge
	UserID   string `json:"i"`           // USER_ID_FOR_SRP
	A        string `json:"a"`           // hex
	B        string `json:"b"`           // server's secret exponent, hex
	PwdState string `json:"w,omitempty"`
	Expires  int64  `json:"e"` // Unix ms
}

var errSRPDisabled = identity.Errorf(identity.CodeInvalidUserPoolConfig, "USER_SRP_AUTH is turned off for this user pool; use USER_PASSWORD_AUTH.")

// srpAuth is round one (InitiateAuth USER_SRP_AUTH).
func (s *Service) srpAuth(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in InitiateAuthInput) (*AuthResult, error) {
	if p.Settings.SRP.Disabled {
		return nil, errSRPDisabled
	}
	if in.Username == "" {
		return nil, identity.FieldError("USERNAME", "Missing required parameter USERNAME")
	}
	aHex := in.Params["SRP_A"]
	if aHex == "" {
		return nil, identity.FieldError("SRP_A", "Missing required parameter SRP_A")
	}
	A, ok := parseHexInt(aHex, maxSRPAHexLen)
	if !ok || !srp.ValidPublic(A) {
		return nil, identity.FieldError("SRP_A", "SRP_A is not a valid SRP public value.")
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if err != nil && !errors.Is(err, errUserNotFound) {
		return nil, err
	}
	if u == nil || u.SRPVerifier == "" {
		subject := "username:" + safeEcho(normalizeUsername(in.Username))
		reason := "unknown_user"
		if u != nil {
			subject, reason = "user:"+u.Sub, "no_srp_verifier"
		}
		if !p.PreventUserExistenceErrors {
			s.auditFailure(ctx, p, subject, reason, cl.ID)
			if u == nil {
				return nil, err
			}
			return nil, identity.Errorf(identity.CodeNotAuthorized,
				"SRP sign-in is not available for this user until one sign-in with USER_PASSWORD_AUTH or a new password (imported, or set while SRP was off).")
		}
		return s.fakeSRPChallenge(ctx, p, cl, in.Username, A)
	}
	salt, ok1 := parseHexInt(u.SRPSalt, 128)
	v, ok2 := parseHexInt(u.SRPVerifier, 1024)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("user %s: malformed SRP verifier", u.Sub)
	}
	userID := cognitoUsername(p, u)
	return s.srpChallenge(p, cl, u.Sub, userID, passwordState(u), A, salt, v)
}

// fakeSRPChallenge answers an unknown user like a known one: the salt is
// stable per pool and username (a MAC under the secret box's key), B is
// random-looking, and round two fails.
func (s *Service) fakeSRPChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, username string, A *big.Int) (*AuthResult, error) {
	name := normalizeUsername(username)
	mac := s.cfg.Secrets.MAC(srpFakeSalt, []byte(p.ID+"\x00"+name))
	salt := new(big.Int).SetBytes(mac[:srpSaltBytes])
	v := new(big.Int).SetBytes(s.cfg.Secrets.MAC(srpFakeSalt+" v", []byte(p.ID+"\x00"+name)))
	v = new(big.Int).Exp(srp.G, v, srp.N)
	userID := name
	if p.UsernameMode == identity.UsernameEmail {
		// A real email pool answers with the sub; make one up, stable.
		h := s.cfg.Secrets.MAC(srpFakeSalt+" sub", []byte(p.ID+"\x00"+name))
		h[6] = 0x40 | (h[6] & 0x0f)
		h[8] = 0x80 | (h[8] & 0x3f)
		userID = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	}
	return s.srpChallenge(p, cl, "", userID, "", A, salt, v)
}

// srpChallenge draws b and builds the PASSWORD_VERIFIER challenge.
func (s *Service) srpChallenge(p *identity.Pool, cl *identity.AppClient, sub, userID, pwdState string, A, salt, v *big.Int) (*AuthResult, error) {
	b, err := srp.RandomExponent(s.cfg.Rand, srpServerExpSize)
	if err != nil {
		return nil, err
	}
	B := srp.ServerB(v, b)
	// B mod N == 0 has probability ~2^-3072; srp.ServerKey would refuse it.
	blk := srpBlock{
		Pool: p.ID, Client: cl.ID, Sub: sub, UserID: userID,
		A: A.Text(16), B: b.Text(16), PwdState: pwdState,
		Expires: s.now().Add(srpBlockTTL).UnixMilli(),
	}
	plain, err := json.Marshal(blk)
	if err != nil {
		return nil, fmt.Errorf("srp block: %w", err)
	}
	sealed, err := s.cfg.Secrets.Seal(srpBlockPurpose, plain)
	if err != nil {
		return nil, err
	}
	return &AuthResult{Challenge: &Challenge{
		Name: ChallengePasswordVerifier,
		Parameters: map[string]string{
			"SALT":            salt.Text(16),
			"SRP_B":           B.Text(16),
			"SECRET_BLOCK":    base64.StdEncoding.EncodeToString(sealed),
			"USERNAME":        userID,
			"USER_ID_FOR_SRP": userID,
		},
	}}, nil
}

// passwordVerifier is round two (RespondToAuthChallenge PASSWORD_VERIFIER).
func (s *Service) passwordVerifier(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput) (*AuthResult, error) {
	if p.Settings.SRP.Disabled {
		return nil, errSRPDisabled
	}
	r := in.Responses
	for _, k := range []string{"PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP"} {
		if r[k] == "" {
			return nil, identity.FieldError(k, "Missing required parameter %s", k)
		}
	}
	blockText, sigText, ts := r["PASSWORD_CLAIM_SECRET_BLOCK"], r["PASSWORD_CLAIM_SIGNATURE"], r["TIMESTAMP"]
	if len(blockText) > maxSecretBlock || len(sigText) > maxSignatureLen || len(ts) > maxTimestampLen {
		return nil, errInvalidSRPBlock
	}
	raw, err := base64.StdEncoding.DecodeString(blockText)
	if err != nil {
		return nil, errInvalidSRPBlock
	}
	plain, err := s.cfg.Secrets.Open(srpBlockPurpose, raw)
	if err != nil {
		return nil, errInvalidSRPBlock
	}
	var blk srpBlock
	if err := json.Unmarshal(plain, &blk); err != nil {
		return nil, errInvalidSRPBlock
	}
	now := s.now()
	if blk.Pool != p.ID || blk.Client != cl.ID || now.UnixMilli() >= blk.Expires {
		return nil, errInvalidSRPBlock
	}
	when, ok := parseSRPTimestamp(ts)
	if !ok {
		return nil, identity.FieldError("TIMESTAMP", "TIMESTAMP must look like \"Sun Nov 22 01:37:29 UTC 2026\".")
	}
	if d := now.Sub(when); d > srpClockSkew || d < -srpClockSkew {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "TIMESTAMP is more than %s away from the server's time.", humanDuration(srpClockSkew))
	}
	if name := r["USERNAME"]; name != "" && name != blk.UserID && normalizeUsername(name) != normalizeUsername(blk.UserID) {
		if blk.Sub == "" {
			return nil, errBadCredentials
		}
		// The username or alias of the same user is fine too.
		if u, err := s.findUser(ctx, s.cfg.Store, p, name); err != nil || u.Sub != blk.Sub {
			return nil, errInvalidSRPBlock
		}
	}
	if blk.Sub == "" { // the challenge of an unknown user
		s.auditFailure(ctx, p, "username:"+safeEcho(blk.UserID), "unknown_user", cl.ID)
		return nil, errBadCredentials
	}
	u, err := s.cfg.Store.GetUser(ctx, p.ID, blk.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if !equalHex(blk.PwdState, passwordState(u)) || u.SRPVerifier == "" {
		// The password changed since round one.
		return nil, errBadCredentials
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil {
		return nil, identity.FieldError("PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SIGNATURE must be base64.")
	}
	A, ok1 := parseHexInt(blk.A, maxSRPAHexLen)
	b, ok2 := parseHexInt(blk.B, 2*srpServerExpSize+2)
	v, ok3 := parseHexInt(u.SRPVerifier, 1024)
	if !ok1 || !ok2 || !ok3 {
		return nil, errInvalidSRPBlock
	}
	err = s.throttled(ctx, p, u, func() (bool, error) {
		key, err := srp.ServerKey(A, srp.ServerB(v, b), b, v)
		if err != nil {
			return false, nil
		}
		want := srp.Signature(key, srp.PoolName(p.ID), blk.UserID, raw, ts)
		return hmac.Equal(want, sig), nil
	}, nil) // an unknown user's round two costs no hash either
	if err != nil {
		if reason, ok := isThrottleRefusal(err); ok {
			s.auditFailure(ctx, p, "user:"+u.Sub, reason, cl.ID)
		}
		return nil, err
	}
	return s.completeSignIn(ctx, p, cl, u, AuthUserSRP)
}

var errInvalidSRPBlock = identity.Errorf(identity.CodeNotAuthorized, "Invalid or expired SECRET_BLOCK; start the sign-in again.")

// parseSRPTimestamp reads TIMESTAMP in the forms clients send.
func parseSRPTimestamp(ts string) (time.Time, bool) {
	for _, layout := range srpTimestampLayouts {
		if t, err := time.Parse(layout, ts); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseHexInt parses a non-empty hex number of at most max digits.
func parseHexInt(h string, max int) (*big.Int, bool) {
	h = strings.TrimSpace(h)
	if h == "" || len(h) > max {
		return nil, false
	}
	for _, r := range h {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return nil, false
		}
	}
	x, ok := new(big.Int).SetString(h, 16)
	return x, ok
}
