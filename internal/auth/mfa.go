package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Second factors (docs/mfa.md)
//
// A sign-in whose first factor verified (password, SRP proof, federation)
// goes through mfaChallenge before any token is issued. The pool's policy
// (identity.MFASettings: OFF, OPTIONAL, ON) and the company's RequireMFA
// decide whether a second factor is needed:
//
//   - OFF and no company requirement: none;
//   - OPTIONAL: the user's enabled factors (SetUserMFAPreference);
//   - ON, or the user's company requires it: every confirmed factor counts,
//     and a user with none gets MFA_SETUP (enrol a TOTP app, then sign in).
//
// One usable factor, or a preferred one, is asked for at once
// (SOFTWARE_TOKEN_MFA, EMAIL_OTP); several with none preferred give
// SELECT_MFA_TYPE. Either code challenge also takes a RECOVERY_CODE
// response (Gatehouse's extension: ten single-use codes).
//
// Every code check runs under the account's credential throttle
// (throttle.go): a wrong code is a failed attempt like a wrong password,
// and the counter is cleared only when the sign-in completes, never when
// the password step before the factor succeeds — otherwise a thief with
// the password could reset the count between guesses. A TOTP code is
// accepted once: its time step is taken by a compare-and-set
// (store.UseFactorStep) that refuses a step not later than the last one.

// Challenge names of the second factor (Cognito's).
const (
	ChallengeSoftwareTokenMFA = "SOFTWARE_TOKEN_MFA"
	ChallengeEmailOTP         = "EMAIL_OTP"
	ChallengeSelectMFAType    = "SELECT_MFA_TYPE"
	ChallengeMFASetup         = "MFA_SETUP"
)

// Authentication method references (RFC 8176) in the amr claim.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	AMRFed      = "fed"
)

const (
	totpPeriod       = 30
	totpDigits       = 6
	totpSecretBytes  = 20
	RecoveryCodeSize = 10 // characters of one recovery code
	// RecoveryCodeCount is how many recovery codes a user gets at once.
	RecoveryCodeCount = 10
	mfaEmailTTL       = challengeTTL
)

var (
	errMFACodeMismatch = identity.Errorf(identity.CodeCodeMismatch, "Invalid code or auth state for the user.")
	errEnableTOTP      = identity.Errorf(identity.CodeEnableSoftwareTokenMFA, "Code mismatch and fail enable Software Token MFA")
	errNoTOTP          = identity.Errorf(identity.CodeSoftwareTokenMFANotFound, "Software Token MFA does not exist for the user.")
)

// totpPurpose binds a sealed TOTP key to its pool, user and factor.
func totpPurpose(f *identity.Factor) string {
	return "gatehouse/totp/v1/" + f.PoolID + "/" + f.Sub + "/" + f.ID
}

// mfaPlan is what the policy asks of a user at sign-in.
type mfaPlan struct {
	required bool     // pool ON or the company requires MFA
	usable   []string // challenge names the user can answer, in a fixed order
	prefer   string   // the preferred one, if usable
	passkeys int      // the user's passkeys (a factor wherever the surface can run the ceremony)
}

type passkeyMFAKey struct{}

// PasskeyMFA marks ctx as coming from a surface that can run a WebAuthn
// assertion as the second factor (the native API, the hosted pages) on
// origin ("" = the pool's base URL origin): there planMFA offers the
// WEB_AUTHN challenge to a user with a passkey. Cognito's surface never
// sets it: AWS has no passkey second factor after a password (a passkey is
// a USER_AUTH first factor only), so Cognito clients keep AWS's
// challenges (docs/cognito.md).
func PasskeyMFA(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, passkeyMFAKey{}, origin)
}

type stepUpKey struct{}

// StepUpMFA marks ctx as a sign-in that must prove a second factor
// whatever the pool's and company's policy say: an OIDC authorization
// request asked for it (acr_values or an essential acr claim naming
// ACRMFA). planMFA then treats MFA as required (a user without a factor
// enrols one, MFA_SETUP); the challenge session keeps the mark for the
// answer. Only a stricter sign-in can come of it, so the hosted pages may
// set it from the request's own return_to.
func StepUpMFA(ctx context.Context) context.Context {
	return context.WithValue(ctx, stepUpKey{}, true)
}

func stepUp(ctx context.Context) bool {
	v, _ := ctx.Value(stepUpKey{}).(bool)
	return v
}

// Authentication context class references (OIDC Core §2 acr) of the ID
// tokens issued through OIDC: ACRMFA when the sign-in proved a second
// factor (amr holds mfa), ACRPassword for a password (or SRP) alone,
// ACRFederated for an upstream provider's sign-in without trusted MFA.
const (
	ACRMFA       = "urn:gatehouse:acr:mfa"
	ACRPassword  = "urn:gatehouse:acr:pwd"
	ACRFederated = "urn:gatehouse:acr:fed"
)

// ACRValuesSupported lists the acr values, strongest first (discovery).
var ACRValuesSupported = []string{ACRMFA, ACRPassword, ACRFederated}

// ACRFor is the acr of a sign-in that ended with amr.
func ACRFor(amr []string) string {
	switch {
	case slices.Contains(amr, AMRMFA):
		return ACRMFA
	case slices.Contains(amr, AMRFed):
		return ACRFederated
	}
	return ACRPassword
}

func passkeyMFAOrigin(ctx context.Context) (string, bool) {
	o, ok := ctx.Value(passkeyMFAKey{}).(string)
	return o, ok
}

// companyRequiresMFA reports whether u's company requires MFA.
func companyRequiresMFA(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) (bool, error) {
	name := u.Attributes[p.Settings.SignUp.CompanyAttr()]
	if name == "" {
		return false, nil
	}
	c, err := q.GetCompany(ctx, p.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get company: %w", err)
	}
	return c.RequireMFA, nil
}

// planMFA applies the pool's policy to u's factors.
func (s *Service) planMFA(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) (*mfaPlan, error) {
	cfg := p.Settings.MFA
	company, err := companyRequiresMFA(ctx, q, p, u)
	if err != nil {
		return nil, err
	}
	company = company || stepUp(ctx) // a step-up asks as a company's requirement does
	plan := &mfaPlan{required: cfg.Mode() == identity.MFAOn || company}
	if cfg.Mode() == identity.MFAOff && !company {
		return plan, nil
	}
	factors, err := q.ListFactors(ctx, p.ID, u.Sub, "")
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", err)
	}
	add := func(name string, f *identity.Factor) {
		if !slices.Contains(plan.usable, name) {
			plan.usable = append(plan.usable, name)
		}
		if f != nil && f.Preferred {
			plan.prefer = name
		}
	}
	for _, f := range factors {
		counts := f.Enabled || plan.required
		switch {
		case f.Type == identity.FactorTOTP && f.Confirmed && counts && !cfg.SoftwareTokenDisabled:
			add(ChallengeSoftwareTokenMFA, f)
		case f.Type == identity.FactorEmailOTP && counts && cfg.Email && u.Email != "" && u.EmailVerified:
			add(ChallengeEmailOTP, f)
		}
	}
	// With MFA required and email codes allowed, a verified email is a
	// factor already (as on Cognito).
	if plan.required && cfg.Email && u.Email != "" && u.EmailVerified {
		add(ChallengeEmailOTP, nil)
	}
	keys, err := q.ListWebAuthnCredentials(ctx, p.ID, u.Sub)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	plan.passkeys = len(keys)
	// A passkey is a second factor where the surface can run the ceremony,
	// when MFA is required or the user has another factor enabled (OPTIONAL
	// asks only users who turned MFA on; a passkey is then one more way).
	if _, ok := passkeyMFAOrigin(ctx); ok && plan.passkeys > 0 && (plan.required || len(plan.usable) > 0) {
		add(ChallengeWebAuthn, nil)
	}
	slices.Sort(plan.usable) // EMAIL_OTP, SOFTWARE_TOKEN_MFA, WEB_AUTHN: a stable order
	return plan, nil
}

// mfaChallenge is called once u's first factor verified (amr says which):
// it returns the challenge the policy asks for, or nil when tokens may be
// issued now.
func (s *Service) mfaChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, amr []string) (*AuthResult, error) {
	plan, err := s.planMFA(ctx, s.cfg.Store, p, u)
	if err != nil {
		return nil, err
	}
	var name string
	switch {
	case plan.prefer != "":
		name = plan.prefer
	case len(plan.usable) == 1:
		name = plan.usable[0]
	case len(plan.usable) > 1:
		name = ChallengeSelectMFAType
	case plan.required:
		if p.Settings.MFA.SoftwareTokenDisabled {
			return nil, identity.Errorf(identity.CodeInvalidUserPoolConfig, "MFA is required but the user has no factor this pool allows to set up.")
		}
		name = ChallengeMFASetup
	default:
		return nil, nil
	}
	return s.issueMFAChallenge(ctx, p, cl, u, name, amr, plan)
}

// issueMFAChallenge answers with challenge name (sending the email code
// for EMAIL_OTP, in the same transaction as the audit).
func (s *Service) issueMFAChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, name string, amr []string, plan *mfaPlan) (*AuthResult, error) {
	extra := map[string]any{"amr": amr}
	if stepUp(ctx) {
		extra["step_up"] = true
	}
	if dc := deviceOf(ctx); dc.known != "" {
		extra["device_key"] = dc.known // the device that authenticated (devices.go)
	}
	session, err := s.challengeSessionWith(ctx, p, cl, u, name, extra)
	if err != nil {
		return nil, err
	}
	params := map[string]string{"USER_ID_FOR_SRP": cognitoUsername(p, u)}
	if name == ChallengeWebAuthn { // its own transaction (the stored challenge)
		origin, _ := passkeyMFAOrigin(ctx)
		opts, err := s.startPasskeyAssertion(ctx, p, u.Sub, origin)
		if err != nil {
			return nil, err
		}
		params["CREDENTIAL_REQUEST_OPTIONS"] = string(opts)
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		switch name {
		case ChallengeEmailOTP:
			d, err := s.sendCode(ctx, q, p, u, identity.PurposeMFAEmail)
			if err != nil {
				return err
			}
			params["CODE_DELIVERY_DELIVERY_MEDIUM"] = d.DeliveryMedium
			params["CODE_DELIVERY_DESTINATION"] = d.Destination
		case ChallengeSelectMFAType:
			b, _ := json.Marshal(plan.usable)
			params["MFAS_CAN_CHOOSE"] = string(b)
		case ChallengeMFASetup:
			params["MFAS_CAN_SETUP"] = `["SOFTWARE_TOKEN_MFA"]`
		}
		if name != ChallengeWebAuthn && name != ChallengeSelectMFAType && slices.Contains(plan.usable, ChallengeWebAuthn) {
			// Only where PasskeyMFA marked ctx: the page may offer "Use
			// your passkey" instead (answered with ANSWER WEB_AUTHN).
			params["WEB_AUTHN_AVAILABLE"] = "true"
		}
		return s.audit(ctx, q, p.ID, "user.sign_in_challenge", "user:"+u.Sub,
			map[string]string{"client_id": cl.ID, "challenge": name})
	})
	if err != nil {
		return nil, err
	}
	return &AuthResult{Challenge: &Challenge{Name: name, Session: session, Parameters: params}}, nil
}

// respondMFA answers the second-factor challenges of RespondToAuthChallenge.
func (s *Service) respondMFA(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput) (*AuthResult, error) {
	claims, u, err := s.verifyChallengeSession(ctx, p, cl, in)
	if err != nil {
		return nil, err
	}
	if u.Status != identity.StatusConfirmed || !u.Enabled {
		return nil, errInvalidSession
	}
	amr := strList(claims["amr"])
	if v, _ := claims["step_up"].(bool); v {
		ctx = StepUpMFA(ctx)
	}
	if dk := strClaim(claims, "device_key"); dk != "" {
		dc := deviceOf(ctx)
		dc.known = dk
		ctx = withDevice(ctx, dc)
	}
	plan, err := s.planMFA(ctx, s.cfg.Store, p, u)
	if err != nil {
		return nil, err
	}
	switch in.ChallengeName {
	case ChallengeSelectMFAType:
		answer := in.Responses["ANSWER"]
		if !slices.Contains(plan.usable, answer) {
			return nil, identity.FieldError("ANSWER", "Invalid ANSWER: the MFA type is not available for the user.")
		}
		return s.issueMFAChallenge(ctx, p, cl, u, answer, amr, plan)
	case ChallengeMFASetup:
		// The session must come from a successful VerifySoftwareToken of
		// this sign-in (it names the factor it confirmed).
		id := strClaim(claims, "mfa_verified")
		fs, err := s.cfg.Store.ListFactors(ctx, p.ID, u.Sub, identity.FactorTOTP)
		if err != nil {
			return nil, fmt.Errorf("list factors: %w", err)
		}
		if id == "" || !slices.ContainsFunc(fs, func(f *identity.Factor) bool { return f.ID == id && f.Confirmed }) {
			return nil, errInvalidSession
		}
		return s.finishSignIn(ctx, p, cl, u, "mfa_setup", append(amr, AMROTP, AMRMFA))
	}
	if in.ChallengeName != ChallengeWebAuthn && in.Responses["ANSWER"] == ChallengeWebAuthn {
		// "Use your passkey" from a code challenge (PasskeyMFA surfaces).
		if !slices.Contains(plan.usable, ChallengeWebAuthn) {
			return nil, identity.FieldError("ANSWER", "Invalid ANSWER: the MFA type is not available for the user.")
		}
		return s.issueMFAChallenge(ctx, p, cl, u, ChallengeWebAuthn, amr, plan)
	}
	if code := in.Responses["RECOVERY_CODE"]; code != "" {
		if err := s.checkRecoveryCode(ctx, p, cl, u, code); err != nil {
			return nil, err
		}
		return s.finishSignIn(ctx, p, cl, u, "recovery_code", append(amr, AMROTP, AMRMFA))
	}
	if !slices.Contains(plan.usable, in.ChallengeName) {
		return nil, errInvalidSession // the factor went meanwhile
	}
	switch in.ChallengeName {
	case ChallengeSoftwareTokenMFA:
		f, err := s.totpFactor(ctx, p, u)
		if err != nil {
			return nil, err
		}
		if err := s.checkTOTP(ctx, p, cl, u, f, in.Responses["SOFTWARE_TOKEN_MFA_CODE"], "SOFTWARE_TOKEN_MFA_CODE", errMFACodeMismatch); err != nil {
			return nil, err
		}
	case ChallengeEmailOTP:
		if err := s.checkEmailCode(ctx, p, cl, u, in.Responses["EMAIL_OTP_CODE"]); err != nil {
			return nil, err
		}
	case ChallengeWebAuthn:
		key, err := s.checkPasskeyFactor(ctx, p, cl, u, []byte(in.Responses["CREDENTIAL"]))
		if err != nil {
			return nil, err
		}
		return s.finishSignIn(ctx, p, cl, u, "web_authn_mfa", append(amr, key, AMRMFA))
	}
	return s.finishSignIn(ctx, p, cl, u, strings.ToLower(in.ChallengeName), append(amr, AMROTP, AMRMFA))
}

// strList reads a claim that holds a list of strings.
func strList(v any) []string {
	var out []string
	switch l := v.(type) {
	case []any:
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, l...)
	}
	return out
}

// totpFactor returns u's confirmed TOTP factor.
func (s *Service) totpFactor(ctx context.Context, p *identity.Pool, u *identity.User) (*identity.Factor, error) {
	fs, err := s.cfg.Store.ListFactors(ctx, p.ID, u.Sub, identity.FactorTOTP)
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", err)
	}
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Confirmed {
			return fs[i], nil
		}
	}
	return nil, errNoTOTP
}

// checkCodeFormat refuses a code that is not 6 digits before any check
// (Cognito's pattern for these codes); such input is not counted.
func checkCodeFormat(field, code string) error {
	if len(code) != totpDigits || strings.Trim(code, "0123456789") != "" {
		return identity.FieldError(field, "Invalid code format: %s must be 6 digits.", field)
	}
	return nil
}

// totpCode is the RFC 6238 code of a base32 key at time step step.
func totpCode(key string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(key, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// checkTOTP verifies code against factor f under the account's throttle:
// steps now-1, now and now+1 (±30 s of clock skew), a step accepted once.
// A wrong or replayed code is a counted failure answered with mismatch.
func (s *Service) checkTOTP(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, f *identity.Factor, code, field string, mismatch error) error {
	code = strings.TrimSpace(code)
	if err := checkCodeFormat(field, code); err != nil {
		return err
	}
	sealed, err := base64.StdEncoding.DecodeString(f.Secret)
	if err != nil {
		return fmt.Errorf("decode totp key: %w", err)
	}
	key, err := s.cfg.Secrets.Open(totpPurpose(f), sealed)
	if err != nil {
		return fmt.Errorf("open totp key: %w", err)
	}
	return s.throttledFactor(ctx, p, cl, u, mismatch, func() (bool, error) {
		now := s.now().Unix() / totpPeriod
		for step := now + 1; step >= now-1; step-- {
			want, err := totpCode(string(key), step)
			if err != nil {
				return false, err
			}
			if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
				return s.cfg.Store.UseFactorStep(ctx, p.ID, u.Sub, f.ID, step)
			}
		}
		return false, nil
	})
}

// throttledFactor runs a factor check under the account's throttle and
// audits a failure. The user is known at this point (the first factor
// verified), so the throttle's refusals are said plainly.
func (s *Service) throttledFactor(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, mismatch error, verify func() (bool, error)) error {
	plain := *p
	plain.PreventUserExistenceErrors = false
	err := s.throttled(ctx, &plain, u, verify, nil)
	if err == nil {
		return nil
	}
	reason, ok := isThrottleRefusal(err)
	if !ok {
		return err
	}
	if reason == "wrong_password" {
		reason, err = "wrong_mfa_code", mismatch
	}
	s.auditFailure(ctx, p, "user:"+u.Sub, reason, cl.ID)
	return err
}

// checkPasskeyFactor verifies a passkey assertion of u as the second
// factor, under the account's throttle (a refused assertion, a replayed or
// another user's one is a counted failure, answered not_authorized "The
// passkey was not accepted."), and moves the key's sign counter. It
// returns the amr value the key proves (hwk or swk).
func (s *Service) checkPasskeyFactor(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, credential []byte) (string, error) {
	parsed, err := parsePasskeyAssertion(credential)
	if err != nil {
		return "", err
	}
	var pf *passkeyProof
	err = s.throttledFactor(ctx, p, cl, u, errPasskeyRefused, func() (bool, error) {
		got, err := s.verifyPasskeyAssertion(ctx, p, cl, u.Sub, parsed)
		if err != nil {
			if c := identity.ErrorCode(err); c == identity.CodeInternal || c == identity.CodeUnavailable || !isIdentityError(err) {
				return false, err
			}
			return false, nil // refused: a counted failure
		}
		if got.u.Sub != u.Sub { // verifyPasskeyAssertion checks it already
			return false, nil
		}
		err = s.cfg.Store.InTx(ctx, func(q store.Querier) error { return s.usePasskey(ctx, q, p, got.row, got.wc, s.now()) })
		if isIdentityError(err) {
			return false, nil // the counter moved meanwhile, or the key went
		}
		pf = got
		return err == nil, err
	})
	if err != nil {
		return "", err
	}
	return pf.amr, nil
}

func isIdentityError(err error) bool {
	var ie *identity.Error
	return errors.As(err, &ie)
}

// checkEmailCode verifies the emailed sign-in code under the throttle.
func (s *Service) checkEmailCode(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, code string) error {
	code = strings.TrimSpace(code)
	if err := checkCodeFormat("EMAIL_OTP_CODE", code); err != nil {
		return err
	}
	hash := codeHash(p, u, identity.PurposeMFAEmail, code)
	return s.throttledFactor(ctx, p, cl, u, errMFACodeMismatch, func() (bool, error) {
		o, err := s.cfg.Store.UseCode(ctx, p.ID, u.Sub, identity.PurposeMFAEmail, hash, s.now(), MaxCodeAttempts)
		return o == store.CodeOK, err
	})
}

// checkRecoveryCode spends one of u's recovery codes under the throttle.
func (s *Service) checkRecoveryCode(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, code string) error {
	code = normalizeRecoveryCode(code)
	if len(code) != RecoveryCodeSize {
		return identity.FieldError("RECOVERY_CODE", "A recovery code has %d characters.", RecoveryCodeSize)
	}
	err := s.throttledFactor(ctx, p, cl, u, errMFACodeMismatch, func() (bool, error) {
		return s.cfg.Store.UseRecoveryCode(ctx, p.ID, u.Sub, recoveryHash(p, u, code), s.now())
	})
	if err != nil {
		return err
	}
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		return s.audit(ctx, q, p.ID, "user.mfa_recovery_code_used", "user:"+u.Sub, map[string]string{"client_id": cl.ID})
	})
}

// normalizeRecoveryCode drops spaces and dashes and lower-cases.
func normalizeRecoveryCode(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	return strings.NewReplacer("-", "", " ", "").Replace(code)
}

// recoveryHash is what is stored for a recovery code, bound to its user.
func recoveryHash(p *identity.Pool, u *identity.User, code string) string {
	return sha256Hex("recovery", p.ID, u.Sub, code)
}

// finishSignIn issues the tokens of a sign-in whose every required factor
// verified: it re-checks the account, clears the failure counter and
// records the sign-in, in one transaction.
func (s *Service) finishSignIn(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, flow string, amr []string) (*AuthResult, error) {
	// Device tracking (devices.go): the device that authenticated, or a
	// new one the client may confirm.
	var newDevice *NewDeviceMetadata
	dc := deviceOf(ctx)
	if p.Settings.Devices.Tracked && dc.track && dc.known == "" {
		var err error
		if newDevice, err = s.newDeviceMetadata(p, u); err != nil {
			return nil, err
		}
		dc.known = newDevice.DeviceKey
		ctx = withDevice(ctx, dc)
	}
	toks, rt, err := s.newSession(ctx, p, cl, u, amr)
	if err != nil {
		return nil, s.signInTokensFailed(ctx, p, cl, u, err)
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := sameCredentials(ctx, q, u); err != nil {
			return err
		}
		if dc.known != "" && newDevice == nil {
			if err := s.touchDevice(ctx, q, p, u, dc.known); err != nil {
				return err
			}
		}
		if err := q.ResetFailedAttempts(ctx, p.ID, u.Sub); err != nil {
			return fmt.Errorf("reset attempts: %w", err)
		}
		if err := s.insertSignIn(ctx, q, rt); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		// Every factor checked: the request is the user's (identity.SetUser).
		identity.SetUser(ctx, u.Sub)
		return s.audit(ctx, q, p.ID, "user.sign_in", "user:"+u.Sub, map[string]string{"client_id": cl.ID, "flow": flow,
			"amr": strings.Join(amr, " ")})
	})
	if err != nil {
		return nil, err
	}
	return &AuthResult{Tokens: toks, NewDevice: newDevice}, nil
}

// TOTP enrolment (AssociateSoftwareToken, VerifySoftwareToken)

// MFAAuth names the user of an MFA self-service call: an access token, or
// the Session of an MFA_SETUP challenge with its client.
type MFAAuth struct {
	AccessToken string
	Client      Client
	Session     string
}

// TOTPSetup is AssociateSoftwareToken's answer.
type TOTPSetup struct {
	SecretCode string // base32, what authenticator apps take
	URI        string // otpauth://totp/... for a QR code
	Session    string // a fresh MFA_SETUP session when one was given
}

// mfaCaller authenticates an MFAAuth. With a session it returns its
// claims (for the next session) and the client.
func (s *Service) mfaCaller(ctx context.Context, a MFAAuth) (*identity.Pool, *identity.AppClient, *identity.User, map[string]any, error) {
	if a.AccessToken != "" {
		p, u, _, err := s.authenticateSelf(ctx, a.AccessToken)
		return p, nil, u, nil, err
	}
	if a.Session == "" {
		return nil, nil, nil, nil, identity.FieldError("AccessToken", "Either AccessToken or Session is required.")
	}
	var (
		cl  *identity.AppClient
		p   *identity.Pool
		err error
	)
	if a.Client.ID != "" {
		cl, p, err = s.resolveClient(ctx, a.Client, "")
	} else {
		cl, p, err = s.sessionClient(ctx, a.Session)
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	claims, u, err := s.verifyChallengeSession(ctx, p, cl, RespondInput{ChallengeName: ChallengeMFASetup, Session: a.Session})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// The session is the password step's proof: the enrolment is the
	// user's (identity.SetUser), as their signed-in calls are.
	identity.SetUser(ctx, u.Sub)
	return p, cl, u, claims, nil
}

// AssociateSoftwareToken starts a TOTP enrolment: a new key, sealed and
// stored as an unconfirmed factor (replacing an earlier unconfirmed one).
// The confirmed factor, if any, stays until VerifySoftwareToken confirms
// the new one.
//
// Errors: those of the access token or session; invalid_user_pool_config
// when the pool does not allow TOTP.
func (s *Service) AssociateSoftwareToken(ctx context.Context, a MFAAuth) (*TOTPSetup, error) {
	p, cl, u, claims, err := s.mfaCaller(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.associateTOTP(ctx, p, cl, u, claims)
}

// associateTOTP is AssociateSoftwareToken's flow for u; claims (with cl)
// are an MFA_SETUP session's, nil for a signed-in user.
func (s *Service) associateTOTP(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, claims map[string]any) (*TOTPSetup, error) {
	if p.Settings.MFA.SoftwareTokenDisabled {
		return nil, identity.Errorf(identity.CodeInvalidUserPoolConfig, "Software token MFA is not enabled for the user pool.")
	}
	raw := make([]byte, totpSecretBytes)
	if _, err := s.cfg.Rand.Read(raw); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	key := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	id, err := s.newSub()
	if err != nil {
		return nil, err
	}
	f := &identity.Factor{PoolID: p.ID, Sub: u.Sub, ID: id, Type: identity.FactorTOTP, CreatedAt: s.now()}
	sealed, err := s.cfg.Secrets.Seal(totpPurpose(f), []byte(key))
	if err != nil {
		return nil, fmt.Errorf("seal totp key: %w", err)
	}
	f.Secret = base64.StdEncoding.EncodeToString(sealed)
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		fs, err := q.ListFactors(ctx, p.ID, u.Sub, identity.FactorTOTP)
		if err != nil {
			return fmt.Errorf("list factors: %w", err)
		}
		for _, old := range fs { // one enrolment pending at a time
			if !old.Confirmed {
				if err := q.DeleteFactor(ctx, p.ID, u.Sub, old.ID); err != nil {
					return fmt.Errorf("delete factor: %w", err)
				}
			}
		}
		return q.InsertFactor(ctx, f)
	})
	if err != nil {
		return nil, wrapStoreErr("associate software token", err)
	}
	out := &TOTPSetup{SecretCode: key, URI: totpURI(p, u, key)}
	if claims != nil {
		out.Session, err = s.challengeSessionWith(ctx, p, cl, u, ChallengeMFASetup, map[string]any{"amr": strList(claims["amr"])})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// totpURI is the otpauth:// URI authenticator apps read from a QR code.
func totpURI(p *identity.Pool, u *identity.User, key string) string {
	account := u.Username
	if u.Email != "" {
		account = u.Email
	}
	return TOTPURI(p, account, key)
}

// TOTPURI is the otpauth:// URI of key for account in pool p.
func TOTPURI(p *identity.Pool, account, key string) string {
	v := url.Values{"secret": {key}, "issuer": {p.Name}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(p.Name+":"+account) + "?" + v.Encode()
}

// VerifyTOTPInput is VerifySoftwareToken's request.
type VerifyTOTPInput struct {
	MFAAuth
	Code       string // UserCode
	DeviceName string // FriendlyDeviceName
}

// VerifySoftwareToken confirms the pending TOTP factor with its first
// code: the factor replaces any earlier TOTP factor and the user is told
// by email. With a session (MFA_SETUP) it returns the session that
// RespondToAuthChallenge MFA_SETUP then takes, and the factor is enabled
// and preferred; with an access token the factor is only verified, as on
// Cognito (SetUserMFAPreference enables it; a pool with MFA ON counts it
// at once).
//
// Errors: software_token_mfa_not_found (no enrolment pending),
// enable_software_token_mfa "Code mismatch and fail enable Software Token
// MFA" (counted as a failed attempt), invalid_parameter (not 6 digits).
func (s *Service) VerifySoftwareToken(ctx context.Context, in VerifyTOTPInput) (string, error) {
	p, cl, u, claims, err := s.mfaCaller(ctx, in.MFAAuth)
	if err != nil {
		return "", err
	}
	return s.verifyTOTP(ctx, p, cl, u, claims, in)
}

// verifyTOTP is VerifySoftwareToken's flow for u (claims as in
// associateTOTP).
func (s *Service) verifyTOTP(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, claims map[string]any, in VerifyTOTPInput) (string, error) {
	if len(in.DeviceName) > 128 || hasControl(in.DeviceName) {
		return "", identity.FieldError("FriendlyDeviceName", "The device name must be at most 128 printable characters.")
	}
	fs, err := s.cfg.Store.ListFactors(ctx, p.ID, u.Sub, identity.FactorTOTP)
	if err != nil {
		return "", fmt.Errorf("list factors: %w", err)
	}
	var f *identity.Factor
	for _, x := range fs {
		if !x.Confirmed {
			f = x
		}
	}
	if f == nil {
		return "", errNoTOTP
	}
	auditClient := ""
	if cl != nil {
		auditClient = cl.ID
	}
	if err := s.checkTOTP(ctx, p, &identity.AppClient{ID: auditClient}, u, f, in.Code, "UserCode", errEnableTOTP); err != nil {
		return "", err
	}
	f.Confirmed, f.Name = true, in.DeviceName
	if claims != nil {
		f.Enabled, f.Preferred = true, true
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		for _, old := range fs {
			if old.ID != f.ID {
				if err := q.DeleteFactor(ctx, p.ID, u.Sub, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("delete factor: %w", err)
				}
				if old.Confirmed && old.Enabled {
					f.Enabled = true // the new app takes the old one's place
					f.Preferred = f.Preferred || old.Preferred
				}
			}
		}
		if err := q.UpdateFactor(ctx, f); err != nil {
			return fmt.Errorf("update factor: %w", err) // ErrNotFound: a newer enrolment replaced it
		}
		return s.factorChanged(ctx, q, p, u, "user.mfa_enrolled", identity.FactorTOTP, true)
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", errNoTOTP
		}
		return "", err
	}
	if claims == nil {
		return "", nil
	}
	return s.challengeSessionWith(ctx, p, cl, u, ChallengeMFASetup, map[string]any{"amr": strList(claims["amr"]), "mfa_verified": f.ID})
}

// factorChanged audits a factor's enrolment or removal and emails the
// user about it, in q's transaction.
func (s *Service) factorChanged(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, event, typ string, added bool) error {
	if err := s.audit(ctx, q, p.ID, event, "user:"+u.Sub, map[string]string{"factor": typ}); err != nil {
		return err
	}
	return s.factorEmail(ctx, q, p, u, typ, added)
}

// factorEmail tells u (in q's transaction, through the outbox) that a
// factor of type typ was added or removed.
func (s *Service) factorEmail(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, typ string, added bool) error {
	if u.Email == "" {
		return nil
	}
	what := map[string]string{identity.FactorTOTP: "An authenticator app", identity.FactorEmailOTP: "Sign-in codes by email",
		identity.FactorRecovery: "Recovery codes", identity.FactorWebAuthn: "A passkey", "": "Every second factor"}[typ]
	change := "added to"
	if !added {
		change = "removed from"
	}
	_, err := s.cfg.Mail.Enqueue(ctx, q, p, u.Email, TemplateMFAChanged, map[string]any{
		"Username": u.Username, "PoolName": p.Name, "Factor": what, "Change": change})
	if err != nil {
		return fmt.Errorf("enqueue %s email: %w", TemplateMFAChanged, err)
	}
	return nil
}

// MFAPreference is SetUserMFAPreference's request: nil leaves a factor as
// it is.
type MFAPreference struct {
	SoftwareToken *FactorPreference
	Email         *FactorPreference
}

// FactorPreference is Cognito's <Factor>MfaSettingsType.
type FactorPreference struct {
	Enabled   bool
	Preferred bool
}

// SetUserMFAPreference sets the caller's factor preferences (access
// token). Errors: invalid_parameter "User does not have delivery config
// set to turn on SOFTWARE_TOKEN_MFA" (no verified TOTP), the same for
// EMAIL_OTP (no verified email or the pool does not allow it), and
// invalid_parameter when MFA is required and this would disable the last
// factor.
func (s *Service) SetUserMFAPreference(ctx context.Context, accessToken string, pref MFAPreference) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.setMFAPreference(ctx, p.ID, u.Sub, pref, "user.mfa_preference", true)
}

// AdminSetUserMFAPreference is SetUserMFAPreference for an administrator.
func (s *Service) AdminSetUserMFAPreference(ctx context.Context, poolID, username string, pref MFAPreference) error {
	return s.setMFAPreference(ctx, poolID, username, pref, "admin.user_mfa_preference", false)
}

// setMFAPreference applies pref to the user: the caller's own account
// (self: who is the token's sub) or, for an administrator, the user named
// username (a company admin only for the members adminUserTx allows).
func (s *Service) setMFAPreference(ctx context.Context, poolID, who string, pref MFAPreference, event string, self bool) error {
	if pref.SoftwareToken != nil && pref.Email != nil && pref.SoftwareToken.Preferred && pref.Email.Preferred {
		return identity.FieldError("PreferredMfa", "Only one MFA type can be preferred.")
	}
	apply := func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		fs, err := q.ListFactors(ctx, p.ID, u.Sub, "")
		if err != nil {
			return nil, fmt.Errorf("list factors: %w", err)
		}
		var totp, email *identity.Factor
		for _, f := range fs {
			switch {
			case f.Type == identity.FactorTOTP && f.Confirmed:
				totp = f
			case f.Type == identity.FactorEmailOTP:
				email = f
			}
		}
		if pref.SoftwareToken != nil {
			if totp == nil || p.Settings.MFA.SoftwareTokenDisabled {
				if pref.SoftwareToken.Enabled || pref.SoftwareToken.Preferred {
					return nil, identity.Errorf(identity.CodeInvalidParameter, "User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA")
				}
			} else {
				totp.Enabled, totp.Preferred = pref.SoftwareToken.Enabled || pref.SoftwareToken.Preferred, pref.SoftwareToken.Preferred
			}
		}
		if pref.Email != nil {
			on := pref.Email.Enabled || pref.Email.Preferred
			if on && (!p.Settings.MFA.Email || u.Email == "" || !u.EmailVerified) {
				return nil, identity.Errorf(identity.CodeInvalidParameter, "User does not have delivery config set to turn on EMAIL_OTP")
			}
			if email == nil && on {
				id, err := s.newSub()
				if err != nil {
					return nil, err
				}
				email = &identity.Factor{PoolID: p.ID, Sub: u.Sub, ID: id, Type: identity.FactorEmailOTP, Confirmed: true, CreatedAt: s.now()}
				if err := q.InsertFactor(ctx, email); err != nil {
					return nil, fmt.Errorf("insert factor: %w", err)
				}
				if err := s.factorChanged(ctx, q, p, u, "user.mfa_enrolled", identity.FactorEmailOTP, true); err != nil {
					return nil, err
				}
			}
			if email != nil {
				email.Enabled, email.Preferred = on, pref.Email.Preferred
			}
		}
		// A preferred factor is the only preferred one.
		if totp != nil && email != nil && totp.Preferred && email.Preferred {
			if pref.Email != nil && pref.Email.Preferred {
				totp.Preferred = false
			} else {
				email.Preferred = false
			}
		}
		for _, f := range []*identity.Factor{totp, email} {
			if f != nil {
				if err := q.UpdateFactor(ctx, f); err != nil {
					return nil, fmt.Errorf("update factor: %w", err)
				}
			}
		}
		return map[string]string{"software_token": prefString(totp), "email": prefString(email)}, nil
	}
	if !self {
		return s.adminUserTx(ctx, poolID, who, event, apply)
	}
	return wrapStoreErr(event, s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		u, err := q.GetUser(ctx, p.ID, who)
		if err != nil {
			return fmt.Errorf("get user: %w", err)
		}
		detail, err := apply(q, p, u)
		if err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, event, "user:"+u.Sub, detail)
	}))
}

func prefString(f *identity.Factor) string {
	switch {
	case f == nil:
		return "none"
	case f.Preferred:
		return "preferred"
	case f.Enabled:
		return "enabled"
	}
	return "disabled"
}

// UserMFA is what GetUser and AdminGetUser say of a user's factors.
type UserMFA struct {
	// Settings are Cognito's UserMFASettingList: the enabled factors.
	Settings  []string
	Preferred string // PreferredMfaSetting
	// Factors are the factors themselves (secrets left out), for the
	// console and the native API.
	Factors []*identity.Factor
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// mfaView reads u's MFA state.
func (s *Service) mfaView(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) (*UserMFA, error) {
	fs, err := q.ListFactors(ctx, p.ID, u.Sub, "")
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", err)
	}
	v := &UserMFA{}
	keys, err := q.ListWebAuthnCredentials(ctx, p.ID, u.Sub)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	// Passkeys are listed among the factors (the native view, the console)
	// but never in Settings: WEB_AUTHN is not in Cognito's
	// UserMFASettingList.
	for _, k := range keys {
		v.Factors = append(v.Factors, &identity.Factor{PoolID: p.ID, Sub: u.Sub, ID: k.ID, Type: identity.FactorWebAuthn,
			Name: k.Name, Confirmed: true, Enabled: true, CreatedAt: k.CreatedAt})
	}
	for _, f := range fs {
		v.add(f)
	}
	return v, nil
}

// add counts factor f into v (factors in creation order).
func (v *UserMFA) add(f *identity.Factor) {
	name := ""
	switch {
	case f.Type == identity.FactorTOTP && f.Confirmed:
		name = ChallengeSoftwareTokenMFA
	case f.Type == identity.FactorEmailOTP:
		name = ChallengeEmailOTP
	case f.Type == identity.FactorRecovery && f.UsedAt.IsZero():
		v.RecoveryCodesLeft++
	}
	if f.Type != identity.FactorRecovery {
		c := *f
		c.Secret = ""
		v.Factors = append(v.Factors, &c)
	}
	if name != "" && f.Enabled {
		v.Settings = append(v.Settings, name)
		if f.Preferred {
			v.Preferred = name
		}
	}
}

// GetUserMFA returns the MFA state of the access token's user.
func (s *Service) GetUserMFA(ctx context.Context, accessToken string) (*UserMFA, error) {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return s.mfaView(ctx, s.cfg.Store, p, u)
}

// AdminGetUserMFA returns a user's MFA state for an administrator (a
// company admin: for the members adminUserTx would let them act on).
func (s *Service) AdminGetUserMFA(ctx context.Context, poolID, username string) (*UserMFA, error) {
	// Reads only, outside a transaction (on SQLite a transaction is the
	// one writer's).
	p, u, err := s.adminTarget(ctx, s.cfg.Store, poolID, username)
	if err != nil {
		return nil, wrapStoreErr("admin get user mfa", err)
	}
	v, err := s.mfaView(ctx, s.cfg.Store, p, u)
	return v, wrapStoreErr("admin get user mfa", err)
}

// AdminResetUserMFA removes every factor of the user (TOTP, email codes,
// recovery codes): the user enrols again at the next sign-in where MFA is
// required. Audited, and the user is emailed.
func (s *Service) AdminResetUserMFA(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_mfa_reset", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		n, err := q.DeleteFactors(ctx, p.ID, u.Sub, "")
		if err != nil {
			return nil, fmt.Errorf("delete factors: %w", err)
		}
		if n > 0 {
			if err := s.factorChanged(ctx, q, p, u, "user.mfa_removed", "", false); err != nil {
				return nil, err
			}
		}
		return map[string]string{"factors": fmt.Sprint(n)}, nil
	})
}

// RemoveFactor removes one of the caller's factors (TOTP, email codes) by
// id. Removing the last factor of a user who must have MFA is refused
// with invalid_parameter: they would be walked through enrolment again at
// once, so it only weakens the account until then.
func (s *Service) RemoveFactor(ctx context.Context, accessToken, id string) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.removeFactor(ctx, p, u, id)
}

// removeFactor is RemoveFactor's flow for u.
func (s *Service) removeFactor(ctx context.Context, p *identity.Pool, u *identity.User, id string) error {
	return wrapStoreErr("remove factor", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		fs, err := q.ListFactors(ctx, p.ID, u.Sub, "")
		if err != nil {
			return fmt.Errorf("list factors: %w", err)
		}
		i := slices.IndexFunc(fs, func(f *identity.Factor) bool { return f.ID == id && f.Type != identity.FactorRecovery })
		if i < 0 {
			return identity.Errorf(identity.CodeResourceNotFound, "No such factor.")
		}
		gone := fs[i]
		plan, err := s.planMFA(ctx, q, p, u)
		if err != nil {
			return err
		}
		if plan.required {
			left := plan.passkeys // a passkey is a factor (lastFactorRule)
			for _, f := range fs {
				if f.ID != gone.ID && (f.Type == identity.FactorTOTP && f.Confirmed || f.Type == identity.FactorEmailOTP) {
					left++
				}
			}
			if left == 0 {
				return identity.Errorf(identity.CodeInvalidParameter, "MFA is required for this account: add another factor before removing the last one.")
			}
		}
		if err := q.DeleteFactor(ctx, p.ID, u.Sub, gone.ID); err != nil {
			return fmt.Errorf("delete factor: %w", err)
		}
		return s.factorChanged(ctx, q, p, u, "user.mfa_removed", gone.Type, false)
	}))
}

// GenerateRecoveryCodes replaces the caller's recovery codes with
// RecoveryCodeCount new ones, returned once (only their hashes are kept).
// Each is 10 characters of [a-z0-9] (about 51 bits): guesses are limited
// by the account lockout. Only a user with another factor gets them.
func (s *Service) GenerateRecoveryCodes(ctx context.Context, accessToken string) ([]string, error) {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return s.recoveryCodes(ctx, p, u)
}

// recoveryCodes is GenerateRecoveryCodes' flow for u.
func (s *Service) recoveryCodes(ctx context.Context, p *identity.Pool, u *identity.User) (codes []string, err error) {
	codes = make([]string, RecoveryCodeCount)
	for i := range codes {
		if codes[i], err = s.randomString(RecoveryCodeSize, lowerAlnum); err != nil {
			return nil, err
		}
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		v, err := s.mfaView(ctx, q, p, u)
		if err != nil {
			return err
		}
		if len(v.Factors) == 0 {
			return identity.Errorf(identity.CodeInvalidParameter, "Set up a second factor before recovery codes.")
		}
		if _, err := q.DeleteFactors(ctx, p.ID, u.Sub, identity.FactorRecovery); err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		now := s.now()
		for _, c := range codes {
			id, err := s.newSub()
			if err != nil {
				return err
			}
			if err := q.InsertFactor(ctx, &identity.Factor{PoolID: p.ID, Sub: u.Sub, ID: id, Type: identity.FactorRecovery,
				Secret: recoveryHash(p, u, c), Confirmed: true, CreatedAt: now}); err != nil {
				return fmt.Errorf("insert recovery code: %w", err)
			}
		}
		return s.factorChanged(ctx, q, p, u, "user.mfa_enrolled", identity.FactorRecovery, true)
	})
	if err != nil {
		return nil, err
	}
	for i, c := range codes {
		codes[i] = c[:5] + "-" + c[5:]
	}
	return codes, nil
}

// PoolMFAConfig is GetUserPoolMfaConfig's answer and SetUserPoolMfaConfig's
// request.
type PoolMFAConfig = identity.MFASettings

// GetPoolMFA returns the pool's MFA policy.
func (s *Service) GetPoolMFA(ctx context.Context, poolID string) (*PoolMFAConfig, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	c := p.Settings.MFA
	c.Configuration = c.Mode()
	return &c, nil
}

// validMFA checks an MFA policy.
func validMFA(c identity.MFASettings) error {
	switch c.Mode() {
	case identity.MFAOff, identity.MFAOptional, identity.MFAOn:
	default:
		return identity.FieldError("MfaConfiguration", "Invalid MfaConfiguration %s: it must be OFF, ON or OPTIONAL.", safeEcho(c.Configuration))
	}
	if c.Mode() != identity.MFAOff && c.SoftwareTokenDisabled && !c.Email {
		return identity.Errorf(identity.CodeInvalidParameter, "At least one MFA type must be enabled when MfaConfiguration is %s.", c.Mode())
	}
	return nil
}

// SetPoolMFA sets the pool's MFA policy (audited). Errors:
// invalid_parameter, resource_not_found.
func (s *Service) SetPoolMFA(ctx context.Context, poolID string, c PoolMFAConfig) (*PoolMFAConfig, error) {
	if callerSub(ctx) != "" { // a company admin: the pool's policy is the pool admins'
		return nil, identity.Errorf(identity.CodeForbidden, "Only the pool's admins may change its MFA policy.")
	}
	if err := validMFA(c); err != nil {
		return nil, err
	}
	c.Configuration = c.Mode()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		if c.WebAuthn == nil { // not named: as it is
			c.WebAuthn = p.Settings.MFA.WebAuthn
		} else if err := s.validWebAuthn(p, c.WebAuthn); err != nil {
			return err
		}
		p.Settings.MFA = c
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return fmt.Errorf("update pool: %w", err)
		}
		return s.audit(ctx, q, p.ID, "admin.pool_mfa", "pool:"+p.ID, map[string]string{"configuration": c.Configuration,
			"software_token": fmt.Sprint(!c.SoftwareTokenDisabled), "email": fmt.Sprint(c.Email),
			"webauthn_rp_id": c.WebAuthn.RPID(), "webauthn_user_verification": c.WebAuthn.UV()})
	})
	if err != nil {
		return nil, wrapStoreErr("set pool mfa", err)
	}
	return &c, nil
}

// SetCompanyRequireMFA sets whether the company's members must use a
// second factor. A company admin may change only their own company
// (checkCompanyAccess); a pool admin any.
func (s *Service) SetCompanyRequireMFA(ctx context.Context, poolID, company string, require bool) error {
	return wrapStoreErr("set company mfa", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		if err := s.checkCompanyAccess(ctx, q, p, company, false); err != nil { // security.md R2: their own company only
			return err
		}
		c, err := q.GetCompany(ctx, p.ID, company)
		if errors.Is(err, store.ErrNotFound) {
			return identity.Errorf(identity.CodeResourceNotFound, "Company not found.")
		}
		if err != nil {
			return fmt.Errorf("get company: %w", err)
		}
		c.RequireMFA = require
		c.UpdatedAt = s.now()
		if err := q.UpdateCompany(ctx, c); err != nil {
			return fmt.Errorf("update company: %w", err)
		}
		return s.audit(ctx, q, p.ID, "company.require_mfa", "company:"+c.Name, map[string]string{"require_mfa": fmt.Sprint(require)})
	}))
}

// upstreamMFA are the upstream amr values that prove a second factor.
var upstreamMFA = []string{"mfa", "otp", "hwk", "swk", "sc", "pop"}

// federatedAMR is the amr of a federated sign-in: "fed", and "mfa" when
// the pool trusts the upstream's amr (MFASettings.TrustUpstreamMFA) and it
// names a second factor. Untrusted upstream values are not copied.
func federatedAMR(p *identity.Pool, t *fedTicket) []string {
	amr := []string{AMRFed}
	if !p.Settings.MFA.TrustUpstreamMFA {
		return amr
	}
	for _, v := range t.AMR {
		if slices.Contains(upstreamMFA, v) {
			return append(amr, AMRMFA)
		}
	}
	return amr
}

var errMFARequired = identity.Errorf(identity.CodeNotAuthorized, "Multi-factor authentication is required.")

// AMRClaim reads a token's amr claim.
func AMRClaim(claims map[string]any) []string { return strList(claims["amr"]) }

// NeedsMFA reports whether a session of the user that signed in with amr
// lacks the second factor the pool's or company's policy now asks for
// (the user has a factor in use, or must have one). Used where an existing
// sign-in is turned into new tokens (OIDC authorize).
func (s *Service) NeedsMFA(ctx context.Context, poolID, sub string, amr []string) (bool, error) {
	if slices.Contains(amr, AMRMFA) {
		return false, nil
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return false, err
	}
	u, err := s.cfg.Store.GetUser(ctx, p.ID, sub)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // the flow's own checks refuse a deleted user
	}
	if err != nil {
		return false, fmt.Errorf("get user: %w", err)
	}
	plan, err := s.planMFA(ctx, s.cfg.Store, p, u)
	if err != nil {
		return false, err
	}
	return plan.required || len(plan.usable) > 0, nil
}

// sessionClient finds the client a challenge session was issued to (its
// aud, unverified here: verifyChallengeSession then checks the signature
// and that aud is this client), for Cognito's AssociateSoftwareToken and
// VerifySoftwareToken, which send a Session without a ClientId.
func (s *Service) sessionClient(ctx context.Context, session string) (*identity.AppClient, *identity.Pool, error) {
	if len(session) > maxSessionLen || strings.Count(session, ".") != 2 {
		return nil, nil, errInvalidSession
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.SplitN(session, ".", 3)[1])
	if err != nil {
		return nil, nil, errInvalidSession
	}
	var c struct {
		Aud string `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Aud == "" || len(c.Aud) > 128 {
		return nil, nil, errInvalidSession
	}
	cl, err := s.cfg.Store.GetClient(ctx, c.Aud)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errInvalidSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get client: %w", err)
	}
	p, err := s.getPool(ctx, s.cfg.Store, cl.PoolID)
	if err != nil {
		return nil, nil, err
	}
	return cl, p, nil
}

// UsersWithMFA reports which of users (of pool poolID) have a confirmed
// second factor (an authenticator app or email codes), for the console's
// member lists. The caller has checked it may list them.
func (s *Service) UsersWithMFA(ctx context.Context, poolID string, users []*identity.User) (map[string]bool, error) {
	out := make(map[string]bool, len(users))
	for _, u := range users {
		fs, err := s.cfg.Store.ListFactors(ctx, poolID, u.Sub, "")
		if err != nil {
			return nil, fmt.Errorf("list factors: %w", err)
		}
		keys, err := s.cfg.Store.ListWebAuthnCredentials(ctx, poolID, u.Sub)
		if err != nil {
			return nil, fmt.Errorf("list passkeys: %w", err)
		}
		out[u.Sub] = len(keys) > 0 || slices.ContainsFunc(fs, func(f *identity.Factor) bool {
			return f.Type == identity.FactorTOTP && f.Confirmed || f.Type == identity.FactorEmailOTP && f.Enabled
		})
	}
	return out, nil
}
