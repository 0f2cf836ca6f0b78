package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// ApplyFile is the declarative description `gatehouse apply` reads: pools,
// and within each pool its settings, app clients, groups, sign-up policy,
// companies, hooks, theme and identity providers. Settings left out keep
// their current value (or the default on creation); apply never deletes.
type ApplyFile struct {
	Pools []PoolSpec `yaml:"pools"`
}

// PoolSpec declares a pool, found by ID when given, else by name.
type PoolSpec struct {
	Name                       string          `yaml:"name"`
	ID                         string          `yaml:"id"`
	Region                     string          `yaml:"region"`
	UsernameMode               string          `yaml:"username_mode"` // email | username | plain
	Domains                    *[]string       `yaml:"domains"`
	BaseURL                    *string         `yaml:"base_url"`
	UniqueEmail                *bool           `yaml:"unique_email"`
	PreventUserExistenceErrors *bool           `yaml:"prevent_user_existence_errors"`
	AdminCreateUserOnly        *bool           `yaml:"admin_create_user_only"`
	PasswordPolicy             *PolicySpec     `yaml:"password_policy"`
	Schema                     []AttributeSpec `yaml:"schema"`
	Tokens                     *TokensSpec     `yaml:"tokens"`
	SigningAlg                 *string         `yaml:"signing_alg"`
	MaxFailedAttempts          *int            `yaml:"max_failed_attempts"`
	LockoutDuration            *Duration       `yaml:"lockout_duration"`
	SRP                        *SRPSpec        `yaml:"srp"`
	MFA                        *MFASpec        `yaml:"mfa"`
	Clients                    []ClientSpec    `yaml:"clients"`
	Groups                     []GroupSpec     `yaml:"groups"`
	SignUp                     *SignUpSpec     `yaml:"sign_up"`   // apply_signup.go
	Companies                  []CompanySpec   `yaml:"companies"` // apply_signup.go
	Hooks                      HooksSpec       `yaml:"hooks"`     // apply_hooks.go
	Console                    *ConsoleSpec    `yaml:"console"`
	Theme                      *ThemeSpec      `yaml:"theme"`     // apply_theme.go
	Retention                  *RetentionSpec  `yaml:"retention"` // apply_retention.go
	// IdentityProviders: apply_federation.go.
	IdentityProviders []IdentityProviderSpec `yaml:"identity_providers"`
}

// ConsoleSpec configures the admin console (docs/console.md):
// admin_group names the group whose members are the pool's admins there
// (default "Admins").
type ConsoleSpec struct {
	AdminGroup *string `yaml:"admin_group"`
}

// SRPSpec controls Cognito's SRP sign-in (USER_SRP_AUTH) in a pool.
// disabled: true stores no SRP verifiers for new passwords and refuses
// USER_SRP_AUTH (docs/cognito-srp.md).
type SRPSpec struct {
	Disabled *bool `yaml:"disabled"`
}

// MFASpec is the pool's second-factor policy (docs/mfa.md): configuration
// OFF, OPTIONAL or ON (Cognito's MfaConfiguration), the factors allowed
// (software_token: authenticator apps, default true; email: emailed
// codes), and whether an upstream provider's amr counts as MFA.
type MFASpec struct {
	Configuration    *string `yaml:"configuration"`
	SoftwareToken    *bool   `yaml:"software_token"`
	Email            *bool   `yaml:"email"`
	TrustUpstreamMFA *bool   `yaml:"trust_upstream_mfa"`
}

// PolicySpec is a password policy; unset fields keep their value.
type PolicySpec struct {
	MinimumLength                 *int      `yaml:"minimum_length"`
	MaximumLength                 *int      `yaml:"maximum_length"`
	RequireUppercase              *bool     `yaml:"require_uppercase"`
	RequireLowercase              *bool     `yaml:"require_lowercase"`
	RequireNumbers                *bool     `yaml:"require_numbers"`
	RequireSymbols                *bool     `yaml:"require_symbols"`
	TemporaryPasswordValidityDays *int      `yaml:"temporary_password_validity_days"`
	BlockCommonPasswords          *bool     `yaml:"block_common_passwords"`
	BlockedWords                  *[]string `yaml:"blocked_words"`
}

// AttributeSpec is a custom attribute. Custom attributes can be added, never
// changed or removed (as in Cognito).
type AttributeSpec struct {
	Name      string `yaml:"name"` // "company_name" or "custom:company_name"
	Type      string `yaml:"type"` // String (default), Number, DateTime, Boolean
	Mutable   *bool  `yaml:"mutable"`
	Required  bool   `yaml:"required"`
	MinLength int    `yaml:"min_length"`
	MaxLength int    `yaml:"max_length"`
	MinValue  *int64 `yaml:"min_value"`
	MaxValue  *int64 `yaml:"max_value"`
}

// TokensSpec holds token lifetimes, e.g. "1h", "30d".
type TokensSpec struct {
	ID      *Duration `yaml:"id"`
	Access  *Duration `yaml:"access"`
	Refresh *Duration `yaml:"refresh"`
}

// ClientSpec declares an app client, found by name within its pool (or by
// ID when given).
type ClientSpec struct {
	Name            string      `yaml:"name"`
	ID              string      `yaml:"id"`
	GenerateSecret  bool        `yaml:"generate_secret"`
	AuthFlows       *[]string   `yaml:"auth_flows"`
	Tokens          *TokensSpec `yaml:"tokens"`
	ReadAttributes  *[]string   `yaml:"read_attributes"`
	WriteAttributes *[]string   `yaml:"write_attributes"`
	CallbackURLs    *[]string   `yaml:"callback_urls"`
	LogoutURLs      *[]string   `yaml:"logout_urls"`
	OAuthFlows      *[]string   `yaml:"oauth_flows"`
	OAuthScopes     *[]string   `yaml:"oauth_scopes"`
	// OpenID Connect client metadata: ES256 or RS256 ("" : RS256), and
	// the Back-Channel Logout receiver ("" : none).
	IDTokenSignedResponseAlg *string `yaml:"id_token_signed_response_alg"`
	BackchannelLogoutURI     *string `yaml:"backchannel_logout_uri"`
	// Refresh token rotation: on (with reuse detection) unless false;
	// the retry grace period in seconds, 0..60 (default 0).
	RefreshTokenRotation   *bool `yaml:"refresh_token_rotation"`
	RefreshTokenRetryGrace *int  `yaml:"refresh_token_retry_grace_seconds"`
}

// GroupSpec declares a group.
type GroupSpec struct {
	Name        string  `yaml:"name"`
	Description *string `yaml:"description"`
	Precedence  *int    `yaml:"precedence"`
	RoleARN     *string `yaml:"role_arn"`
}

// ParseApplyFile decodes and checks an apply file; unknown keys are errors.
func ParseApplyFile(r io.Reader) (*ApplyFile, error) {
	f, err := parseApplyFile("", r)
	return f, err
}

// parseApplyFile is ParseApplyFile for the file called name: a decoding
// error names it, the line and, for an unknown key, the nearest valid one
// (apply_yamlerr.go); a check's error names the file and the place in it.
func parseApplyFile(name string, r io.Reader) (*ApplyFile, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	label := name
	if label == "" {
		label = "the file"
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var f ApplyFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty", label)
		}
		return nil, explainYAMLError(label, src, err)
	}
	if err := checkApplyFile(&f); err != nil {
		var lines []string
		for _, l := range strings.Split(err.Error(), "\n") {
			lines = append(lines, label+": "+l)
		}
		return nil, errors.New(strings.Join(lines, "\n"))
	}
	return &f, nil
}

// checkApplyFile checks what decoding cannot: required names, duplicates,
// values out of range.
func checkApplyFile(f *ApplyFile) error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range f.Pools {
		where := fmt.Sprintf("pools[%d]", i)
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		}
		key := p.ID
		if key == "" {
			key = "name:" + p.Name
		}
		if seen[key] {
			errs = append(errs, fmt.Errorf("%s: pool %q is declared twice", where, p.Name))
		}
		seen[key] = true
		switch p.UsernameMode {
		case "", string(identity.UsernameEmail), string(identity.UsernameWithEmailAlias), string(identity.UsernamePlain):
		default:
			errs = append(errs, fmt.Errorf("%s.username_mode %q: want email, username or plain", where, p.UsernameMode))
		}
		names := map[string]bool{}
		for j, c := range p.Clients {
			if c.Name == "" {
				errs = append(errs, fmt.Errorf("%s.clients[%d]: name is required", where, j))
			}
			if names[c.Name] {
				errs = append(errs, fmt.Errorf("%s.clients[%d]: client %q is declared twice", where, j, c.Name))
			}
			names[c.Name] = true
		}
		groups := map[string]bool{}
		for j, g := range p.Groups {
			if g.Name == "" {
				errs = append(errs, fmt.Errorf("%s.groups[%d]: name is required", where, j))
			}
			if groups[g.Name] {
				errs = append(errs, fmt.Errorf("%s.groups[%d]: group %q is declared twice", where, j, g.Name))
			}
			groups[g.Name] = true
		}
		for j, a := range p.Schema {
			if a.Name == "" {
				errs = append(errs, fmt.Errorf("%s.schema[%d]: name is required", where, j))
			}
		}
		errs = append(errs, validateApplySignUp(where, p)...)
		errs = append(errs, validateApplyFederation(where, &f.Pools[i])...)
		errs = append(errs, validateApplyHooks(where, &f.Pools[i])...)
	}
	return errors.Join(errs...)
}

// Change kinds of a plan.
const (
	ChangeCreate    = "+"
	ChangeUpdate    = "~"
	ChangeUnchanged = "="
)

// Change is one line of a plan.
type Change struct {
	Kind   string   // ChangeCreate, ChangeUpdate, ChangeUnchanged
	What   string   // "pool", "client", "group", "attribute"
	Name   string   // e.g. "demo", "demo/web"
	Fields []string // changed fields, for updates
	Note   string

	apply func(ctx context.Context, svc *auth.Service, out io.Writer) error
}

func (c Change) String() string {
	s := fmt.Sprintf("%s %s %s", c.Kind, c.What, c.Name)
	if len(c.Fields) > 0 {
		s += ": " + strings.Join(c.Fields, ", ")
	}
	if c.Note != "" {
		s += " (" + c.Note + ")"
	}
	return s
}

// Plan is the list of changes apply would make.
type Plan struct {
	Changes []Change
}

// Pending counts the changes that are not "unchanged".
func (p *Plan) Pending() (create, update int) {
	for _, c := range p.Changes {
		switch c.Kind {
		case ChangeCreate:
			create++
		case ChangeUpdate:
			update++
		}
	}
	return
}

// BuildPlan compares f with the database. It reads only.
func BuildPlan(ctx context.Context, svc *auth.Service, f *ApplyFile) (*Plan, error) {
	plan := &Plan{}
	pools, err := allPools(ctx, svc)
	if err != nil {
		return nil, err
	}
	for i := range f.Pools {
		spec := f.Pools[i]
		existing, err := findPool(pools, spec)
		if err != nil {
			return nil, err
		}
		if existing == nil {
			plan.Changes = append(plan.Changes, planCreatePool(spec)...)
			continue
		}
		plan.Changes = append(plan.Changes, planUpdatePool(existing, spec))
		cs, err := planChildren(ctx, svc, existing.ID, spec)
		if err != nil {
			return nil, err
		}
		plan.Changes = append(plan.Changes, cs...)
	}
	return plan, nil
}

func findPool(pools []*identity.Pool, spec PoolSpec) (*identity.Pool, error) {
	var found []*identity.Pool
	for _, p := range pools {
		if spec.ID != "" {
			if p.ID == spec.ID {
				return p, nil
			}
			continue
		}
		if p.Name == spec.Name {
			found = append(found, p)
		}
	}
	if len(found) > 1 {
		return nil, fmt.Errorf("pool %q: several pools have that name; give its id in the file", spec.Name)
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return nil, nil
}

// poolIDRef carries the pool id from a pool's creation to its children's,
// which are applied after it.
type poolIDRef struct{ id string }

func planCreatePool(spec PoolSpec) []Change {
	ref := &poolIDRef{id: spec.ID}
	out := []Change{{
		Kind: ChangeCreate, What: "pool", Name: spec.Name,
		apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
			in := auth.CreatePoolInput{Name: spec.Name, ID: spec.ID, Region: spec.Region, UsernameMode: identity.UsernameMode(spec.UsernameMode)}
			p := &identity.Pool{}
			applyPoolSpec(p, spec)
			in.Domains, in.BaseURL = p.Domains, p.BaseURL
			in.UniqueEmail, in.PreventUserExistenceErrors, in.AdminCreateUserOnly = p.UniqueEmail, p.PreventUserExistenceErrors, p.AdminCreateUserOnly
			if spec.PasswordPolicy != nil {
				pol := identity.DefaultPasswordPolicy()
				applyPolicySpec(&pol, spec.PasswordPolicy)
				in.PasswordPolicy = &pol
			}
			in.Schema = schemaDefs(spec.Schema)
			in.Tokens, in.SigningAlg = p.Tokens, p.SigningAlg
			in.MaxFailedAttempts, in.LockoutDuration = p.MaxFailedAttempts, p.LockoutDuration
			in.MFA = p.Settings.MFA
			created, err := svc.CreatePool(ctx, in)
			if err != nil {
				return err
			}
			ref.id = created.ID
			if len(applySignUpSpec(created, spec.SignUp))+len(applyHooksSpec(created, spec.Hooks))+len(applyThemeSpec(created, spec.Theme)) > 0 { // settings CreatePool does not take
				if _, err := svc.UpdatePool(ctx, created); err != nil {
					return err
				}
			}
			if p.Settings.SRP.Disabled { // a pool setting CreatePool does not take
				created.Settings.SRP.Disabled = true
				if _, err := svc.UpdatePool(ctx, created); err != nil {
					return err
				}
			}
			if p.Settings.Console.AdminGroup != "" { // neither does the console's
				created.Settings.Console = p.Settings.Console
				if _, err := svc.UpdatePool(ctx, created); err != nil {
					return err
				}
			}
			if len(applyRetentionSpec(created, spec.Retention)) > 0 { // nor the retention
				if _, err := svc.UpdatePool(ctx, created); err != nil {
					return err
				}
			}
			fmt.Fprintf(w, "created pool %s (%s)\n", created.Name, created.ID)
			return nil
		},
	}}
	for _, c := range spec.Clients {
		out = append(out, planCreateClient(ref, spec.Name, c))
	}
	for _, g := range spec.Groups {
		out = append(out, planCreateGroup(ref, spec.Name, g))
	}
	cs, _ := planCompanies(context.Background(), nil, ref, spec.Name, spec.Companies, nil)
	out = append(out, cs...)
	return append(out, planIdentityProviders(ref, spec.Name, spec.IdentityProviders, nil)...)
}

// applyPoolSpec sets on p the fields spec declares and returns the names of
// those that changed.
func applyPoolSpec(p *identity.Pool, spec PoolSpec) []string {
	var changed []string
	setBool := func(name string, dst *bool, v *bool) {
		if v != nil && *dst != *v {
			*dst = *v
			changed = append(changed, name)
		}
	}
	setList := func(name string, dst *[]string, v *[]string) {
		if v != nil && !slices.Equal(*dst, *v) && !(len(*dst) == 0 && len(*v) == 0) {
			*dst = slices.Clone(*v)
			changed = append(changed, name)
		}
	}
	if spec.Name != "" && p.Name != spec.Name && p.ID != "" {
		p.Name = spec.Name
		changed = append(changed, "name")
	}
	setList("domains", &p.Domains, spec.Domains)
	if spec.BaseURL != nil && p.BaseURL != *spec.BaseURL {
		p.BaseURL = *spec.BaseURL
		changed = append(changed, "base_url")
	}
	if spec.UsernameMode != "" && p.ID != "" && string(p.UsernameMode) != spec.UsernameMode {
		// Reported, and refused by the service: it cannot change.
		p.UsernameMode = identity.UsernameMode(spec.UsernameMode)
		changed = append(changed, "username_mode")
	}
	setBool("unique_email", &p.UniqueEmail, spec.UniqueEmail)
	setBool("prevent_user_existence_errors", &p.PreventUserExistenceErrors, spec.PreventUserExistenceErrors)
	setBool("admin_create_user_only", &p.AdminCreateUserOnly, spec.AdminCreateUserOnly)
	if spec.PasswordPolicy != nil {
		before := p.PasswordPolicy
		applyPolicySpec(&p.PasswordPolicy, spec.PasswordPolicy)
		if !policyEqual(before, p.PasswordPolicy) {
			changed = append(changed, "password_policy")
		}
	}
	if spec.Tokens != nil && applyTokensSpec(&p.Tokens, spec.Tokens) {
		changed = append(changed, "tokens")
	}
	if spec.SigningAlg != nil && p.SigningAlg != *spec.SigningAlg {
		p.SigningAlg = *spec.SigningAlg
		changed = append(changed, "signing_alg")
	}
	if spec.MaxFailedAttempts != nil && p.MaxFailedAttempts != *spec.MaxFailedAttempts {
		p.MaxFailedAttempts = *spec.MaxFailedAttempts
		changed = append(changed, "max_failed_attempts")
	}
	if spec.LockoutDuration != nil && p.LockoutDuration != spec.LockoutDuration.D() {
		p.LockoutDuration = spec.LockoutDuration.D()
		changed = append(changed, "lockout_duration")
	}
	if p.ID != "" {
		changed = append(changed, applySignUpSpec(p, spec.SignUp)...)
		changed = append(changed, applyHooksSpec(p, spec.Hooks)...)
		changed = append(changed, applyThemeSpec(p, spec.Theme)...)
	}
	changed = append(changed, applyRetentionSpec(p, spec.Retention)...)
	if spec.SRP != nil {
		setBool("srp.disabled", &p.Settings.SRP.Disabled, spec.SRP.Disabled)
	}
	if m := spec.MFA; m != nil {
		cur := &p.Settings.MFA
		if m.Configuration != nil && cur.Mode() != strings.ToUpper(*m.Configuration) {
			cur.Configuration = strings.ToUpper(*m.Configuration)
			changed = append(changed, "mfa.configuration")
		}
		if m.SoftwareToken != nil && cur.SoftwareTokenDisabled == *m.SoftwareToken {
			cur.SoftwareTokenDisabled = !*m.SoftwareToken
			changed = append(changed, "mfa.software_token")
		}
		setBool("mfa.email", &cur.Email, m.Email)
		setBool("mfa.trust_upstream_mfa", &cur.TrustUpstreamMFA, m.TrustUpstreamMFA)
	}
	if spec.Console != nil && spec.Console.AdminGroup != nil && p.Settings.Console.AdminGroup != *spec.Console.AdminGroup {
		p.Settings.Console.AdminGroup = *spec.Console.AdminGroup
		changed = append(changed, "console.admin_group")
	}
	return changed
}

func policyEqual(a, b identity.PasswordPolicy) bool {
	if !slices.Equal(a.BlockedWords, b.BlockedWords) && (len(a.BlockedWords) > 0 || len(b.BlockedWords) > 0) {
		return false
	}
	a.BlockedWords, b.BlockedWords = nil, nil
	return reflect.DeepEqual(a, b)
}

func applyPolicySpec(p *identity.PasswordPolicy, s *PolicySpec) {
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&p.MinimumLength, s.MinimumLength)
	setInt(&p.MaximumLength, s.MaximumLength)
	setBool(&p.RequireUppercase, s.RequireUppercase)
	setBool(&p.RequireLowercase, s.RequireLowercase)
	setBool(&p.RequireNumbers, s.RequireNumbers)
	setBool(&p.RequireSymbols, s.RequireSymbols)
	setInt(&p.TemporaryPasswordValidityDays, s.TemporaryPasswordValidityDays)
	setBool(&p.BlockCommonPasswords, s.BlockCommonPasswords)
	if s.BlockedWords != nil {
		p.BlockedWords = slices.Clone(*s.BlockedWords)
	}
}

func applyTokensSpec(t *identity.TokenLifetimes, s *TokensSpec) bool {
	changed := false
	set := func(dst *time.Duration, v *Duration) {
		if v != nil && *dst != v.D() {
			*dst = v.D()
			changed = true
		}
	}
	set(&t.ID, s.ID)
	set(&t.Access, s.Access)
	set(&t.Refresh, s.Refresh)
	return changed
}

func customName(n string) string {
	if strings.HasPrefix(n, "custom:") {
		return n
	}
	return "custom:" + n
}

func schemaDefs(specs []AttributeSpec) []identity.AttributeDef {
	var out []identity.AttributeDef
	for _, s := range specs {
		d := identity.AttributeDef{
			Name: customName(s.Name), Type: identity.AttributeType(s.Type), Mutable: true, Required: s.Required,
			MinLength: s.MinLength, MaxLength: s.MaxLength, MinValue: s.MinValue, MaxValue: s.MaxValue,
		}
		if d.Type == "" {
			d.Type = identity.AttrString
		}
		if s.Mutable != nil {
			d.Mutable = *s.Mutable
		}
		out = append(out, d)
	}
	return out
}

func planUpdatePool(existing *identity.Pool, spec PoolSpec) Change {
	p := *existing
	changed := applyPoolSpec(&p, spec)
	// Custom attributes: only additions.
	var add []identity.AttributeDef
	for _, d := range schemaDefs(spec.Schema) {
		if !slices.ContainsFunc(existing.Schema, func(e identity.AttributeDef) bool { return e.Name == d.Name }) {
			add = append(add, d)
		}
	}
	if len(add) > 0 {
		names := attrNames(add)
		changed = append(changed, "schema (+"+strings.Join(names, ", +")+")")
	}
	if len(changed) == 0 {
		return Change{Kind: ChangeUnchanged, What: "pool", Name: spec.Name, Note: existing.ID}
	}
	return Change{
		Kind: ChangeUpdate, What: "pool", Name: spec.Name, Fields: changed, Note: existing.ID,
		apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
			cur, err := svc.GetPool(ctx, existing.ID)
			if err != nil {
				return err
			}
			if len(applyPoolSpec(cur, spec)) > 0 {
				if _, err := svc.UpdatePool(ctx, cur); err != nil {
					return err
				}
			}
			if len(add) > 0 {
				if err := svc.AddCustomAttributes(ctx, existing.ID, add); err != nil {
					return err
				}
			}
			fmt.Fprintf(w, "updated pool %s (%s)\n", spec.Name, existing.ID)
			return nil
		},
	}
}

func planChildren(ctx context.Context, svc *auth.Service, poolID string, spec PoolSpec) ([]Change, error) {
	ref := &poolIDRef{id: poolID}
	var out []Change
	clients, err := allClients(ctx, svc, poolID)
	if err != nil {
		return nil, err
	}
	for _, cs := range spec.Clients {
		var found *identity.AppClient
		for _, c := range clients {
			if (cs.ID != "" && c.ID == cs.ID) || (cs.ID == "" && c.Name == cs.Name) {
				if found != nil {
					return nil, fmt.Errorf("pool %s: several clients are named %q; give its id in the file", spec.Name, cs.Name)
				}
				found = c
			}
		}
		if found == nil {
			out = append(out, planCreateClient(ref, spec.Name, cs))
			continue
		}
		out = append(out, planUpdateClient(spec.Name, found, cs))
	}
	groups, err := allGroups(ctx, svc, poolID)
	if err != nil {
		return nil, err
	}
	for _, gs := range spec.Groups {
		idx := slices.IndexFunc(groups, func(g *identity.Group) bool { return g.Name == gs.Name })
		if idx < 0 {
			out = append(out, planCreateGroup(ref, spec.Name, gs))
			continue
		}
		out = append(out, planUpdateGroup(spec.Name, groups[idx], gs))
	}
	if len(spec.Companies) > 0 {
		companies, err := allCompanies(ctx, svc, poolID)
		if err != nil {
			return nil, err
		}
		cs, err := planCompanies(ctx, svc, ref, spec.Name, spec.Companies, companies)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	if len(spec.IdentityProviders) > 0 {
		p, err := svc.GetPool(ctx, poolID)
		if err != nil {
			return nil, err
		}
		out = append(out, planIdentityProviders(ref, spec.Name, spec.IdentityProviders, p)...)
	}
	return out, nil
}

func clientInput(poolID string, cs ClientSpec) auth.CreateClientInput {
	in := auth.CreateClientInput{PoolID: poolID, ID: cs.ID, Name: cs.Name, GenerateSecret: cs.GenerateSecret}
	c := &identity.AppClient{}
	applyClientSpec(c, cs)
	in.AuthFlows, in.Tokens = c.AuthFlows, c.Tokens
	in.ReadAttributes, in.WriteAttributes = c.ReadAttributes, c.WriteAttributes
	in.CallbackURLs, in.LogoutURLs = c.CallbackURLs, c.LogoutURLs
	in.OAuthFlows, in.OAuthScopes = c.OAuthFlows, c.OAuthScopes
	in.IDTokenSignedResponseAlg, in.BackchannelLogoutURI = c.IDTokenSignedResponseAlg, c.BackchannelLogoutURI
	in.RefreshRotation, in.RefreshGraceSeconds = c.RefreshRotation, c.RefreshGraceSeconds
	return in
}

func applyClientSpec(c *identity.AppClient, cs ClientSpec) []string {
	var changed []string
	setList := func(name string, dst *[]string, v *[]string, norm func([]string) []string) {
		if v == nil {
			return
		}
		want := *v
		if norm != nil {
			want = norm(want)
		}
		if !slices.Equal(*dst, want) && !(len(*dst) == 0 && len(want) == 0) {
			*dst = slices.Clone(want)
			changed = append(changed, name)
		}
	}
	setList("auth_flows", &c.AuthFlows, cs.AuthFlows, normalizeFlows)
	setList("read_attributes", &c.ReadAttributes, cs.ReadAttributes, nil)
	setList("write_attributes", &c.WriteAttributes, cs.WriteAttributes, nil)
	setList("callback_urls", &c.CallbackURLs, cs.CallbackURLs, nil)
	setList("logout_urls", &c.LogoutURLs, cs.LogoutURLs, nil)
	setList("oauth_flows", &c.OAuthFlows, cs.OAuthFlows, nil)
	setList("oauth_scopes", &c.OAuthScopes, cs.OAuthScopes, nil)
	setString := func(name string, dst *string, v *string) {
		if v != nil && *dst != *v {
			*dst = *v
			changed = append(changed, name)
		}
	}
	setString("id_token_signed_response_alg", &c.IDTokenSignedResponseAlg, cs.IDTokenSignedResponseAlg)
	setString("backchannel_logout_uri", &c.BackchannelLogoutURI, cs.BackchannelLogoutURI)
	if cs.RefreshTokenRotation != nil && *cs.RefreshTokenRotation != c.Rotates() {
		c.SetRotates(*cs.RefreshTokenRotation)
		changed = append(changed, "refresh_token_rotation")
	}
	if cs.RefreshTokenRetryGrace != nil && *cs.RefreshTokenRetryGrace != c.RefreshGraceSeconds {
		c.RefreshGraceSeconds = *cs.RefreshTokenRetryGrace
		changed = append(changed, "refresh_token_retry_grace_seconds")
	}
	if cs.Tokens != nil && applyTokensSpec(&c.Tokens, cs.Tokens) {
		changed = append(changed, "tokens")
	}
	return changed
}

func planCreateClient(ref *poolIDRef, poolName string, cs ClientSpec) Change {
	note := "public"
	if cs.GenerateSecret {
		note = "with secret"
	}
	return Change{
		Kind: ChangeCreate, What: "client", Name: poolName + "/" + cs.Name, Note: note,
		apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
			cc, err := svc.CreateClient(ctx, clientInput(ref.id, cs))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "created client %s/%s: id %s\n", poolName, cc.Client.Name, cc.Client.ID)
			if cc.Secret != "" {
				fmt.Fprintf(w, "  client secret (shown once): %s\n", cc.Secret)
			}
			return nil
		},
	}
}

func planUpdateClient(poolName string, existing *identity.AppClient, cs ClientSpec) Change {
	c := *existing
	changed := applyClientSpec(&c, cs)
	note := existing.ID
	if cs.GenerateSecret != existing.HasSecret() {
		note += "; generate_secret cannot change after creation: delete and re-create the client, or use `clients rotate-secret`"
	}
	if len(changed) == 0 {
		return Change{Kind: ChangeUnchanged, What: "client", Name: poolName + "/" + cs.Name, Note: note}
	}
	return Change{
		Kind: ChangeUpdate, What: "client", Name: poolName + "/" + cs.Name, Fields: changed, Note: note,
		apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
			cur, err := svc.GetClient(ctx, existing.PoolID, existing.ID)
			if err != nil {
				return err
			}
			applyClientSpec(cur, cs)
			if _, err := svc.UpdateClient(ctx, cur); err != nil {
				return err
			}
			fmt.Fprintf(w, "updated client %s/%s\n", poolName, cs.Name)
			return nil
		},
	}
}

func applyGroupSpec(g *identity.Group, gs GroupSpec) []string {
	var changed []string
	if gs.Description != nil && g.Description != *gs.Description {
		g.Description = *gs.Description
		changed = append(changed, "description")
	}
	if gs.Precedence != nil && (g.Precedence == nil || *g.Precedence != *gs.Precedence) {
		v := *gs.Precedence
		g.Precedence = &v
		changed = append(changed, "precedence")
	}
	if gs.RoleARN != nil && g.RoleARN != *gs.RoleARN {
		g.RoleARN = *gs.RoleARN
		changed = append(changed, "role_arn")
	}
	return changed
}

func planCreateGroup(ref *poolIDRef, poolName string, gs GroupSpec) Change {
	return Change{
		Kind: ChangeCreate, What: "group", Name: poolName + "/" + gs.Name,
		apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
			g := &identity.Group{PoolID: ref.id, Name: gs.Name}
			applyGroupSpec(g, gs)
			if _, err := svc.CreateGroup(ctx, g); err != nil {
				return err
			}
			fmt.Fprintf(w, "created group %s/%s\n", poolName, gs.Name)
			return nil
		},
	}
}

func planUpdateGroup(poolName string, existing *identity.Group, gs GroupSpec) Change {
	g := *existing
	changed := applyGroupSpec(&g, gs)
	if len(changed) == 0 {
		return Change{Kind: ChangeUnchanged, What: "group", Name: poolName + "/" + gs.Name}
	}
	return Change{
		Kind: ChangeUpdate, What: "group", Name: poolName + "/" + gs.Name, Fields: changed,
		apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
			cur, err := svc.GetGroup(ctx, existing.PoolID, existing.Name)
			if err != nil {
				return err
			}
			applyGroupSpec(cur, gs)
			if _, err := svc.UpdateGroup(ctx, cur); err != nil {
				return err
			}
			fmt.Fprintf(w, "updated group %s/%s\n", poolName, gs.Name)
			return nil
		},
	}
}

// ApplyPlan makes the plan's changes in order (a pool before its clients and
// groups), stopping at the first error. Run it in a batch (RunApply) so
// that an error leaves nothing half applied.
func ApplyPlan(ctx context.Context, svc *auth.Service, plan *Plan, w io.Writer) error {
	for _, c := range plan.Changes {
		if c.apply == nil {
			continue
		}
		if err := c.apply(ctx, svc, w); err != nil {
			return fmt.Errorf("%s %s: %w", c.What, c.Name, err)
		}
	}
	return nil
}

// WritePlan prints the plan, terraform-like.
func WritePlan(w io.Writer, plan *Plan, verbose bool) {
	for _, c := range plan.Changes {
		if c.Kind == ChangeUnchanged && !verbose {
			continue
		}
		fmt.Fprintln(w, c.String())
	}
	create, update := plan.Pending()
	unchanged := len(plan.Changes) - create - update
	if create+update == 0 {
		fmt.Fprintf(w, "No changes. %d resources up to date.\n", unchanged)
		return
	}
	fmt.Fprintf(w, "Plan: %d to create, %d to update, %d unchanged.\n", create, update, unchanged)
}

// RunApply plans spec against the database, prints the plan to w and
// applies it — all in one transaction (auth.Service.Batch): a file applies
// whole or changes nothing. A dry run makes the very same calls and rolls
// them back, so it fails exactly where the real run would.
func RunApply(ctx context.Context, svc *auth.Service, spec *ApplyFile, dryRun, verbose bool, w io.Writer) error {
	var out bytes.Buffer
	var create, update int
	err := svc.Batch(ctx, dryRun, func(tx *auth.Service) error {
		out.Reset() // the batch may run again (PostgreSQL retries)
		plan, err := BuildPlan(ctx, tx, spec)
		if err != nil {
			return err
		}
		WritePlan(&out, plan, verbose)
		create, update = plan.Pending()
		if create+update == 0 {
			return nil
		}
		applied := &out
		if dryRun {
			applied = &bytes.Buffer{} // checked, not shown
		} else {
			fmt.Fprintln(&out)
		}
		return ApplyPlan(ctx, tx, plan, applied)
	})
	if errors.Is(err, auth.ErrRolledBack) {
		_, werr := w.Write(out.Bytes())
		if create+update > 0 {
			fmt.Fprintln(w, "Dry run: the plan applies cleanly; nothing was changed.")
		}
		return werr
	}
	if err != nil {
		// Show the plan and what went wrong; nothing was changed.
		_, _ = w.Write(planOnly(out.Bytes()))
		return fmt.Errorf("%w\nnothing was changed", err)
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return err
	}
	if create+update > 0 {
		fmt.Fprintf(w, "Apply complete: %d created, %d updated.\n", create, update)
	}
	return nil
}

// planOnly cuts the output of a failed apply after the plan: the lines
// saying what was created were rolled back.
func planOnly(b []byte) []byte {
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i+1]
	}
	return b
}

func (a *app) applyCommand() *cobra.Command {
	var file string
	var dryRun, verbose bool
	cmd := &cobra.Command{
		Use:   "apply -f gatehouse.yaml",
		Short: "Create or update the pools declared in a YAML file, with their clients, groups, companies and policies",
		Long: `Apply a declarative file of pools and, in each pool, its settings,
app clients, groups, sign-up policy (approval workflow), companies and their
approvers, hooks, theme and identity providers (see
examples/config/gatehouse.yaml and docs/cli.md). The plan is printed first:

  + pool demo                        will be created
  ~ client demo/web: callback_urls   will be updated
  = group demo/Users                 unchanged (shown with -v)

then applied, unless --dry-run, in one transaction: a file applies whole or
changes nothing. --dry-run makes the same checks (it runs the same changes
and rolls them back), so a file that cannot be applied fails there too.
Applying the same file twice makes no changes the second time. Apply never
deletes anything. Client secrets generated on creation are printed once.
An approver named by "user:" who has no account yet is kept as an address
approver until that person signs up (docs/approval.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f is required")
			}
			var r io.Reader
			if file == "-" {
				r = a.stdin
			} else {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			name := file
			if name == "-" {
				name = "<stdin>"
			}
			spec, err := parseApplyFile(name, r)
			if err != nil {
				return err
			}
			return a.withCore(cmd, func(ctx context.Context, c *core) error {
				return RunApply(ctx, c.svc, spec, dryRun, verbose, a.stdout)
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "YAML file to apply (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list unchanged resources")
	return cmd
}
