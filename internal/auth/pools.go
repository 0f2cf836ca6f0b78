package auth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Pool limits beyond Cognito's (see common.go for those).
const (
	MaxPoolNameLen     = 128
	MaxPoolDomains     = 50
	MaxBlockedWords    = 100
	MaxBlockedWordLen  = 64
	MaxFailuresLimit   = 100 // ASVS: at most 100 consecutive failures per account
	MinLockoutDuration = time.Second
	MaxLockoutDuration = 24 * time.Hour
	MaxTempPasswordDay = 365
	poolIDSuffixLen    = 9
)

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	// A fixed pool id: a region, '_', and 1..32 alphanumerics. Generated
	// ids have exactly 9, as Cognito's do; imports keep what they bring.
	poolIDRE     = regexp.MustCompile(`^([a-z]{2}(?:-gov)?-[a-z]+-[0-9])_[0-9A-Za-z]{1,32}$`)
	customNameRE = regexp.MustCompile(`^custom:[A-Za-z0-9_-]{1,20}$`)
	hostLabelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// CreatePool validates in, fills defaults, creates the pool and then its
// first signing key.
//
// Defaults: region Config.Region (us-east-1), a random id
// "<region>_<9 alphanumerics>", UsernameEmail mode,
// identity.DefaultPasswordPolicy (NIST SP 800-63B-4: 15 characters minimum),
// ID/access tokens 1h, refresh 30d, ES256, DefaultMaxFailures failures,
// DefaultLockout. The password MinimumLength may be set as low as 6
// (Cognito's range) but NIST SP 800-63B-4 asks for 15 when the password is
// the only factor; shorter minimums are for pools with a second factor.
//
// The key is created after the pool row commits; if that fails the pool is
// deleted again and the error returned, so no pool is left without a key.
//
// Errors: invalid_parameter (with Field) for bad input, conflict when in.ID
// is taken or a domain is used by another pool.
func (s *Service) CreatePool(ctx context.Context, in CreatePoolInput) (*identity.Pool, error) {
	region := in.Region
	if region == "" {
		region = s.cfg.Region
	}
	if !regionRE.MatchString(region) {
		return nil, identity.FieldError("region", "Invalid region %q; expected e.g. us-east-1 or eu-west-2.", safeEcho(region))
	}
	fixedID := in.ID != ""
	if fixedID {
		m := poolIDRE.FindStringSubmatch(in.ID)
		if m == nil || len(in.ID) > 55 {
			return nil, identity.FieldError("id", "Invalid pool id %q; expected <region>_<alphanumerics>, e.g. us-east-1_AbC123xyZ.", safeEcho(in.ID))
		}
		if in.Region != "" && m[1] != in.Region {
			return nil, identity.FieldError("id", "The pool id's region %s does not match the region %s.", m[1], in.Region)
		}
		region = m[1]
	}
	now := s.now()
	p := &identity.Pool{
		ID:                         in.ID,
		Name:                       in.Name,
		Domains:                    in.Domains,
		BaseURL:                    in.BaseURL,
		UsernameMode:               in.UsernameMode,
		UniqueEmail:                in.UniqueEmail,
		PreventUserExistenceErrors: in.PreventUserExistenceErrors,
		AdminCreateUserOnly:        in.AdminCreateUserOnly,
		Tokens:                     in.Tokens,
		SigningAlg:                 in.SigningAlg,
		MaxFailedAttempts:          in.MaxFailedAttempts,
		LockoutDuration:            in.LockoutDuration,
		CreatedAt:                  now,
		UpdatedAt:                  now,
	}
	p.Settings.UserAttributeUpdate.EmailWithoutVerification = in.EmailUpdateWithoutVerification
	p.Settings.NoAutoVerify = in.NoAutoVerify
	p.Settings.EmailRequired = in.EmailRequired
	if err := validMFA(in.MFA); err != nil {
		return nil, err
	}
	p.Settings.MFA = in.MFA
	p.Settings.Devices = in.Devices
	p.Settings.AccountRecovery = in.AccountRecovery
	p.Settings.Hooks = in.Hooks
	if err := mergeHooks(&identity.Pool{}, p); err != nil { // every hook with its secret
		return nil, err
	}
	if len(in.Tags) > 0 {
		if err := ValidateTags(in.Tags); err != nil {
			return nil, err
		}
		p.Settings.Tags = maps.Clone(in.Tags)
	}
	if in.PasswordPolicy != nil {
		p.PasswordPolicy = *in.PasswordPolicy
		p.PasswordPolicy.BlockedWords = append([]string(nil), in.PasswordPolicy.BlockedWords...)
	} else {
		p.PasswordPolicy = identity.DefaultPasswordPolicy()
	}
	if p.UsernameMode == "" {
		p.UsernameMode = identity.UsernameEmail
	}
	for _, d := range in.Schema {
		if d.Type == "" {
			d.Type = identity.AttrString
		}
		if err := validateAttrDef(d); err != nil {
			return nil, err
		}
		p.Schema = append(p.Schema, d)
	}
	if err := normalizePool(p); err != nil {
		return nil, err
	}

	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if !fixedID {
			suffix, rerr := s.randomString(poolIDSuffixLen, alnum)
			if rerr != nil {
				return nil, rerr
			}
			p.ID = region + "_" + suffix
		}
		err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			if err := s.checkDomainsFree(ctx, q, p); err != nil {
				return err
			}
			if err := q.CreatePool(ctx, p); err != nil {
				return err
			}
			return s.audit(ctx, q, p.ID, "pool.create", "pool:"+p.ID, map[string]string{"name": p.Name})
		})
		if !errors.Is(err, store.ErrConflict) || fixedID {
			break
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return nil, identity.Errorf(identity.CodeConflict, "A user pool with the id %s already exists.", p.ID)
	}
	if err != nil {
		return nil, wrapStoreErr("create pool", err)
	}
	if s.batch != nil {
		// In a batch the pool is not committed yet, and the key manager
		// writes through its own store: create the keys after the commit.
		s.batch.afterCommit = append(s.batch.afterCommit, func(ctx context.Context, outer *Service) error {
			return outer.ensurePoolKey(ctx, p)
		})
		return p, nil
	}
	if err := s.ensurePoolKey(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// ensurePoolKey creates a new pool's signing keys, or deletes the pool.
func (s *Service) ensurePoolKey(ctx context.Context, p *identity.Pool) error {
	if kerr := s.cfg.Tokens.EnsureKey(ctx, p); kerr != nil {
		// Leave nothing half made: a pool without a key cannot sign tokens.
		if derr := s.cfg.Store.DeletePool(context.WithoutCancel(ctx), p.ID); derr != nil {
			s.cfg.Log.Error("auth: delete pool after key creation failed", "pool", p.ID, "err", derr)
		}
		return fmt.Errorf("create signing key for pool %s: %w", p.ID, kerr)
	}
	return nil
}

// GetPool returns the pool or resource_not_found.
func (s *Service) GetPool(ctx context.Context, poolID string) (*identity.Pool, error) {
	return s.getPool(ctx, s.cfg.Store, poolID)
}

// ListPools lists pools, limit 1..60 (0: 60). token is the NextToken of the
// previous page; a bad token is invalid_parameter.
func (s *Service) ListPools(ctx context.Context, limit int, token string) ([]*identity.Pool, string, error) {
	n, err := clampLimit(limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	ps, next, err := s.cfg.Store.ListPools(ctx, page{Limit: n, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list pools", err)
	}
	return ps, next, nil
}

// UpdatePool validates and stores p (fetched by GetPool and changed). The
// same rules as CreatePool apply, plus: the id and username mode cannot
// change (the signing algorithm can: the new one's keys are made first,
// the old one's keep verifying), UniqueEmail can only be turned on while
// the pool has no users, and the schema may only grow, through AddCustomAttributes
// (p.Schema must equal the stored schema, or be nil to keep it). Zero
// numeric fields take their defaults.
//
// Errors: resource_not_found, invalid_parameter, conflict (domain in use).
func (s *Service) UpdatePool(ctx context.Context, p *identity.Pool) (*identity.Pool, error) {
	if p == nil {
		return nil, identity.FieldError("pool", "A pool is required.")
	}
	np := *p
	np.Domains = append([]string(nil), p.Domains...)
	np.PasswordPolicy.BlockedWords = append([]string(nil), p.PasswordPolicy.BlockedWords...)
	if err := normalizePool(&np); err != nil {
		return nil, err
	}
	// A new signing algorithm: its keys (an active and a next one) exist,
	// and are in the JWKS, before the first token it signs. The keys of
	// the other algorithm stay, so tokens signed before keep verifying.
	if cur, err := s.cfg.Store.GetPool(ctx, np.ID); err == nil && cur.SigningAlg != np.SigningAlg {
		if err := s.cfg.Tokens.EnsureAlg(ctx, &np, np.SigningAlg); err != nil {
			return nil, err
		}
	}
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := s.getPool(ctx, q, np.ID)
		if err != nil {
			return err
		}
		if np.Schema == nil {
			np.Schema = cur.Schema
		} else if !sameSchema(np.Schema, cur.Schema) {
			return identity.FieldError("schema", "The schema cannot be changed here; add custom attributes with AddCustomAttributes.")
		}
		if np.UsernameMode != cur.UsernameMode {
			return identity.FieldError("username_mode", "The username mode of a pool cannot be changed.")
		}
		if err := mergeHooks(cur, &np); err != nil { // hooks: keep masked secrets, validate
			return err
		}
		if err := checkUniqueEmailChange(ctx, q, cur, &np); err != nil {
			return err
		}
		np.CreatedAt = cur.CreatedAt
		np.UpdatedAt = s.now()
		if err := validMFA(np.Settings.MFA); err != nil {
			return err
		}
		if w, was := np.Settings.MFA.WebAuthn, cur.Settings.MFA.WebAuthn; w != nil && (was == nil || *w != *was) {
			if err := s.validWebAuthn(&np, w); err != nil { // as SetPoolMFA does
				return err
			}
		}
		if err := s.checkDomainsFree(ctx, q, &np); err != nil {
			return err
		}
		if err := q.UpdatePool(ctx, &np); err != nil {
			return err
		}
		return s.audit(ctx, q, np.ID, "pool.update", "pool:"+np.ID, nil)
	})
	if err != nil {
		return nil, wrapStoreErr("update pool", err)
	}
	return &np, nil
}

// DeletePool deletes the pool and everything in it (users, clients, groups,
// keys, codes, tokens, outbox). The audit log keeps its rows.
//
// Errors: resource_not_found.
func (s *Service) DeletePool(ctx context.Context, poolID string) error {
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		if err := q.DeletePool(ctx, p.ID); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "pool.delete", "pool:"+p.ID, map[string]string{"name": p.Name})
	})
	return wrapStoreErr("delete pool", err)
}

// AddCustomAttributes appends custom attributes to a pool's schema. Names
// may be given with or without the "custom:" prefix. New attributes cannot
// be Required (existing users would not have them); names must be unique
// and the schema holds at most MaxCustomAttributes.
//
// Errors: resource_not_found, invalid_parameter.
func (s *Service) AddCustomAttributes(ctx context.Context, poolID string, attrs []identity.AttributeDef) error {
	if len(attrs) == 0 {
		return identity.FieldError("custom_attributes", "At least one custom attribute is required.")
	}
	if len(attrs) > MaxCustomAttributes {
		return identity.FieldError("custom_attributes", "A pool has at most %d custom attributes.", MaxCustomAttributes)
	}
	add := make([]identity.AttributeDef, len(attrs))
	for i, d := range attrs {
		if !strings.HasPrefix(d.Name, "custom:") {
			d.Name = "custom:" + d.Name
		}
		if d.Type == "" {
			d.Type = identity.AttrString
		}
		if err := validateAttrDef(d); err != nil {
			return err
		}
		if d.Required {
			return identity.FieldError(d.Name, "Custom attributes added to an existing pool cannot be required.")
		}
		add[i] = d
	}
	return wrapStoreErr("add custom attributes", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		schema := append(append([]identity.AttributeDef(nil), p.Schema...), add...)
		if err := validateSchema(schema); err != nil {
			return err
		}
		p.Schema = schema
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return err
		}
		names := make([]string, len(add))
		for i, d := range add {
			names[i] = d.Name
		}
		return s.audit(ctx, q, p.ID, "pool.add_custom_attributes", "pool:"+p.ID, map[string]string{"attributes": strings.Join(names, ",")})
	}))
}

// normalizePool fills defaults into zero fields and validates everything
// but the id and the schema's history. It changes only p.
func normalizePool(p *identity.Pool) error {
	if err := validRetention(p.Settings.Retention); err != nil {
		return err
	}
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return identity.FieldError("name", "A pool name is required.")
	}
	if !utf8.ValidString(p.Name) || utf8.RuneCountInString(p.Name) > MaxPoolNameLen {
		return identity.FieldError("name", "The pool name must be valid UTF-8 and at most %d characters.", MaxPoolNameLen)
	}
	if strings.IndexFunc(p.Name, unicode.IsControl) >= 0 {
		return identity.FieldError("name", "The pool name may not contain control characters.")
	}
	switch p.UsernameMode {
	case identity.UsernameEmail, identity.UsernameWithEmailAlias, identity.UsernamePlain:
	default:
		return identity.FieldError("username_mode", "The username mode must be %q, %q or %q.", identity.UsernameEmail, identity.UsernameWithEmailAlias, identity.UsernamePlain)
	}
	doms, err := normalizeDomains(p.Domains)
	if err != nil {
		return err
	}
	p.Domains = doms
	if p.BaseURL != "" {
		u, err := validateBaseURL(p.BaseURL)
		if err != nil {
			return err
		}
		p.BaseURL = u
	}
	if err := normalizePasswordPolicy(&p.PasswordPolicy); err != nil {
		return err
	}
	if err := validateSchema(p.Schema); err != nil {
		return err
	}
	if err := validateSignUpPolicy(&p.Settings.SignUp); err != nil {
		return err
	}
	if err := p.Settings.Theme.Validate(); err != nil {
		return err
	}
	if p.Tokens.ID == 0 {
		p.Tokens.ID = DefaultIDTokenTTL
	}
	if p.Tokens.Access == 0 {
		p.Tokens.Access = DefaultAccessTokenTTL
	}
	if p.Tokens.Refresh == 0 {
		p.Tokens.Refresh = DefaultRefreshTokenTTL
	}
	if err := validateLifetimes("tokens", p.Tokens); err != nil {
		return err
	}
	if p.SigningAlg == "" {
		p.SigningAlg = "ES256"
	}
	if p.SigningAlg != "ES256" && p.SigningAlg != "RS256" {
		return identity.FieldError("signing_alg", "The signing algorithm must be ES256 or RS256.")
	}
	if p.MaxFailedAttempts == 0 {
		p.MaxFailedAttempts = DefaultMaxFailures
	}
	if p.MaxFailedAttempts < 1 || p.MaxFailedAttempts > MaxFailuresLimit {
		return identity.FieldError("max_failed_attempts", "max_failed_attempts must be between 1 and %d.", MaxFailuresLimit)
	}
	if p.LockoutDuration == 0 {
		p.LockoutDuration = DefaultLockout
	}
	if p.LockoutDuration < MinLockoutDuration || p.LockoutDuration > MaxLockoutDuration {
		return identity.FieldError("lockout_duration", "lockout_duration must be between %s and %s.", MinLockoutDuration, MaxLockoutDuration)
	}
	return nil
}

// normalizePasswordPolicy fills zero lengths and validity with defaults and
// checks the ranges: minimum 6..99 (Cognito's), maximum 64..256 and not
// below the minimum, temporary passwords valid 1..365 days.
func normalizePasswordPolicy(pol *identity.PasswordPolicy) error {
	def := identity.DefaultPasswordPolicy()
	if pol.MinimumLength == 0 {
		pol.MinimumLength = def.MinimumLength
	}
	if pol.MaximumLength == 0 {
		pol.MaximumLength = def.MaximumLength
	}
	if pol.TemporaryPasswordValidityDays == 0 {
		pol.TemporaryPasswordValidityDays = def.TemporaryPasswordValidityDays
	}
	if pol.MinimumLength < 6 || pol.MinimumLength > 99 {
		return identity.FieldError("password_policy.minimum_length", "The minimum password length must be between 6 and 99.")
	}
	if pol.MaximumLength < 64 || pol.MaximumLength > 256 {
		return identity.FieldError("password_policy.maximum_length", "The maximum password length must be between 64 and 256.")
	}
	if pol.MinimumLength > pol.MaximumLength {
		return identity.FieldError("password_policy.minimum_length", "The minimum password length cannot exceed the maximum length (%d).", pol.MaximumLength)
	}
	if pol.TemporaryPasswordValidityDays < 1 || pol.TemporaryPasswordValidityDays > MaxTempPasswordDay {
		return identity.FieldError("password_policy.temporary_password_validity_days", "Temporary passwords must be valid for 1 to %d days.", MaxTempPasswordDay)
	}
	if len(pol.BlockedWords) > MaxBlockedWords {
		return identity.FieldError("password_policy.blocked_words", "At most %d blocked words are allowed.", MaxBlockedWords)
	}
	for i, w := range pol.BlockedWords {
		w = strings.TrimSpace(w)
		if w == "" || !utf8.ValidString(w) || utf8.RuneCountInString(w) > MaxBlockedWordLen || strings.IndexFunc(w, unicode.IsControl) >= 0 {
			return identity.FieldError("password_policy.blocked_words", "Each blocked word must be 1 to %d printable characters.", MaxBlockedWordLen)
		}
		pol.BlockedWords[i] = w
	}
	return nil
}

// validateLifetimes checks token lifetimes; zero fields are allowed (they
// mean "the default" or "the pool's").
func validateLifetimes(field string, t identity.TokenLifetimes) error {
	check := func(name string, d, lo, hi time.Duration) error {
		if d != 0 && (d < lo || d > hi) {
			return identity.FieldError(field+"."+name, "The %s token lifetime must be between %s and %s.", name, lo, hi)
		}
		return nil
	}
	if err := check("id", t.ID, MinTokenTTL, MaxTokenTTL); err != nil {
		return err
	}
	if err := check("access", t.Access, MinTokenTTL, MaxTokenTTL); err != nil {
		return err
	}
	return check("refresh", t.Refresh, MinRefreshTTL, MaxRefreshTTL)
}

// validateSchema checks the whole schema: count, definitions, duplicates.
func validateSchema(schema []identity.AttributeDef) error {
	if len(schema) > MaxCustomAttributes {
		return identity.FieldError("schema", "A pool has at most %d custom attributes.", MaxCustomAttributes)
	}
	seen := make(map[string]bool, len(schema))
	for _, d := range schema {
		if seen[d.Name] {
			return identity.FieldError("schema", "The attribute %s is defined twice.", safeEcho(d.Name))
		}
		seen[d.Name] = true
	}
	return nil
}

// validateAttrDef checks one custom attribute definition.
func validateAttrDef(d identity.AttributeDef) error {
	if !customNameRE.MatchString(d.Name) {
		return identity.FieldError("schema", "Invalid custom attribute name %q: use custom: followed by 1 to %d letters, digits, '_' or '-'.", safeEcho(d.Name), MaxAttrNameLen)
	}
	switch d.Type {
	case identity.AttrString:
		if d.MinLength < 0 || d.MaxLength < 0 || d.MaxLength > MaxAttrValueLen || d.MinLength > MaxAttrValueLen {
			return identity.FieldError(d.Name, "String lengths of %s must be between 0 and %d.", d.Name, MaxAttrValueLen)
		}
		if d.MaxLength > 0 && d.MinLength > d.MaxLength {
			return identity.FieldError(d.Name, "The minimum length of %s is greater than its maximum.", d.Name)
		}
		if d.MinValue != nil || d.MaxValue != nil {
			return identity.FieldError(d.Name, "Only Number attributes have minimum and maximum values (%s is a String).", d.Name)
		}
	case identity.AttrNumber:
		if d.MinLength != 0 || d.MaxLength != 0 {
			return identity.FieldError(d.Name, "Only String attributes have lengths (%s is a Number).", d.Name)
		}
		if d.MinValue != nil && d.MaxValue != nil && *d.MinValue > *d.MaxValue {
			return identity.FieldError(d.Name, "The minimum value of %s is greater than its maximum.", d.Name)
		}
	case identity.AttrBoolean, identity.AttrDateTime:
		if d.MinLength != 0 || d.MaxLength != 0 || d.MinValue != nil || d.MaxValue != nil {
			return identity.FieldError(d.Name, "A %s attribute has no length or value bounds (%s).", d.Type, d.Name)
		}
	default:
		return identity.FieldError(d.Name, "The type of %s must be String, Number, DateTime or Boolean.", safeEcho(d.Name))
	}
	return nil
}

func sameSchema(a, b []identity.AttributeDef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// normalizeDomains lower-cases and checks host names (no port, no scheme,
// no trailing dot), without duplicates.
func normalizeDomains(in []string) ([]string, error) {
	if len(in) > MaxPoolDomains {
		return nil, identity.FieldError("domains", "A pool has at most %d domains.", MaxPoolDomains)
	}
	out := make([]string, 0, len(in))
	for _, d := range in {
		h := strings.ToLower(strings.TrimSpace(d))
		if !validHostname(h) {
			return nil, identity.FieldError("domains", "Invalid domain %q: use a host name such as id.example.com, without scheme, port or path.", safeEcho(d))
		}
		if contains(out, h) {
			return nil, identity.FieldError("domains", "The domain %s is listed twice.", h)
		}
		out = append(out, h)
	}
	return out, nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if !hostLabelRE.MatchString(label) {
			return false
		}
	}
	return true
}

// validateBaseURL checks an absolute http(s) URL without user info, query
// or fragment and returns it without a trailing slash.
func validateBaseURL(raw string) (string, error) {
	bad := identity.FieldError("base_url", "The base URL must be an absolute http or https URL without query or fragment, e.g. https://id.example.com.")
	if len(raw) > 1024 || !utf8.ValidString(raw) {
		return "", bad
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") || u.Opaque != "" {
		return "", bad
	}
	if !validHostname(strings.ToLower(u.Hostname())) && !isIPLiteral(u.Hostname()) {
		return "", bad
	}
	return trimSlash(raw), nil
}

func isIPLiteral(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if !(r >= '0' && r <= '9' || r == '.' || r == ':' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return strings.Contains(h, ".") || strings.Contains(h, ":")
}

// PoolByDomain returns the pool whose settings hold the Cognito API
// domain d (UserPoolDomain's prefix or custom domain), or
// resource_not_found.
func (s *Service) PoolByDomain(ctx context.Context, d string) (*identity.Pool, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	tok := ""
	for d != "" {
		ps, next, err := s.cfg.Store.ListPools(ctx, page{Limit: store.MaxPageLimit, Token: tok})
		if err != nil {
			return nil, wrapStoreErr("list pools", err)
		}
		for _, p := range ps {
			if ud := p.Settings.UserPoolDomain; ud.Prefix == d || ud.Custom == d {
				return p, nil
			}
		}
		if next == "" {
			break
		}
		tok = next
	}
	return nil, identity.Errorf(identity.CodeResourceNotFound, "No such domain.")
}

// checkDomainsFree returns conflict if another pool already claims one of
// p's domains: a host name must resolve to exactly one pool.
func (s *Service) checkDomainsFree(ctx context.Context, q store.Querier, p *identity.Pool) error {
	if len(p.Domains) == 0 {
		return nil
	}
	tok := ""
	for {
		ps, next, err := q.ListPools(ctx, page{Limit: store.MaxPageLimit, Token: tok})
		if err != nil {
			return fmt.Errorf("list pools: %w", err)
		}
		for _, o := range ps {
			if o.ID == p.ID {
				continue
			}
			for _, d := range p.Domains {
				if contains(o.Domains, d) {
					return identity.Errorf(identity.CodeConflict, "The domain %s is already used by pool %s.", d, o.ID)
				}
			}
		}
		if next == "" {
			return nil
		}
		tok = next
	}
}

// wrapStoreErr passes *identity.Error through and wraps anything else with
// what failed (an internal error for callers). nil stays nil.
func wrapStoreErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var ie *identity.Error
	if errors.As(err, &ie) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// MaxRetentionDays bounds a retention setting (100 years).
const MaxRetentionDays = 36500

// validRetention accepts 0 (the default), -1 (forever) and 1 to
// MaxRetentionDays for each of the pool's retention periods.
func validRetention(r identity.RetentionSettings) error {
	for _, f := range []struct {
		name string
		v    int
	}{{"audit_days", r.AuditDays}, {"email_days", r.EmailDays}, {"job_days", r.JobDays}, {"registration_days", r.RegistrationDays}} {
		if f.v < -1 || f.v > MaxRetentionDays {
			return identity.FieldError("retention."+f.name, "A retention period is 1 to %d days, 0 for the default or -1 to keep forever.", MaxRetentionDays)
		}
	}
	return nil
}
