package api

import (
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Wire shapes. Field names are snake_case; times are RFC 3339 and absent
// when unset. Nothing here carries a password hash, a client secret hash
// or a private key: the views copy named fields, never whole domain values.

// tsp returns nil for the zero time, so omitempty drops it.
func tsp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// list is every list response.
type list[T any] struct {
	Items     []T    `json:"items"`
	NextToken string `json:"next_token,omitempty"`
}

func listOf[S any, T any](items []S, next string, view func(S) T) list[T] {
	out := list[T]{Items: make([]T, 0, len(items)), NextToken: next}
	for _, it := range items {
		out.Items = append(out.Items, view(it))
	}
	return out
}

type codeDeliveryView struct {
	Destination    string `json:"destination"`
	DeliveryMedium string `json:"delivery_medium"`
	AttributeName  string `json:"attribute_name"`
}

func codeDelivery(c *auth.CodeDelivery) *codeDeliveryView {
	if c == nil {
		return nil
	}
	return &codeDeliveryView{Destination: c.Destination, DeliveryMedium: c.DeliveryMedium, AttributeName: c.AttributeName}
}

type tokensView struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

type challengeView struct {
	ChallengeName       string            `json:"challenge_name"`
	Session             string            `json:"session"`
	ChallengeParameters map[string]string `json:"challenge_parameters"`
}

// authResult is tokens or a challenge, never both.
func authResult(res *auth.AuthResult) any {
	if res != nil && res.Challenge != nil {
		p := res.Challenge.Parameters
		if p == nil {
			p = map[string]string{}
		}
		return challengeView{ChallengeName: res.Challenge.Name, Session: res.Challenge.Session, ChallengeParameters: p}
	}
	if res == nil || res.Tokens == nil {
		return nil
	}
	t := res.Tokens
	typ := t.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	return tokensView{IDToken: t.IDToken, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn, TokenType: typ}
}

func attrs(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// meView is the caller's own account (GET /api/v1/me).
type meView struct {
	Sub           string            `json:"sub"`
	Username      string            `json:"username"`
	Status        string            `json:"status"`
	Enabled       bool              `json:"enabled"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"email_verified"`
	PendingEmail  string            `json:"pending_email,omitempty"`
	Attributes    map[string]string `json:"attributes"`
	Groups        []string          `json:"groups"`
}

func me(v *auth.UserView) meView {
	u := v.User
	return meView{Sub: u.Sub, Username: u.Username, Status: string(u.Status), Enabled: u.Enabled,
		Email: u.Email, EmailVerified: u.EmailVerified, PendingEmail: u.PendingEmail, Attributes: attrs(u.Attributes), Groups: strs(v.Groups)}
}

// userView is a user as administrators see it.
type userView struct {
	Sub               string            `json:"sub"`
	Username          string            `json:"username"`
	Email             string            `json:"email,omitempty"`
	EmailVerified     bool              `json:"email_verified"`
	PendingEmail      string            `json:"pending_email,omitempty"`
	Status            string            `json:"status"`
	Enabled           bool              `json:"enabled"`
	Attributes        map[string]string `json:"attributes"`
	Groups            []string          `json:"groups,omitempty"`
	PasswordChangedAt *time.Time        `json:"password_changed_at,omitempty"`
	LockedUntil       *time.Time        `json:"locked_until,omitempty"`
	CreatedAt         *time.Time        `json:"created_at,omitempty"`
	UpdatedAt         *time.Time        `json:"updated_at,omitempty"`
}

func adminUser(u *identity.User) userView {
	return userView{Sub: u.Sub, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified, PendingEmail: u.PendingEmail,
		Status: string(u.Status), Enabled: u.Enabled, Attributes: attrs(u.Attributes),
		PasswordChangedAt: tsp(u.PasswordChangedAt), LockedUntil: tsp(u.LockedUntil),
		CreatedAt: tsp(u.CreatedAt), UpdatedAt: tsp(u.UpdatedAt)}
}

func adminUserWithGroups(v *auth.UserView) userView {
	out := adminUser(v.User)
	out.Groups = strs(v.Groups)
	return out
}

// tokenLifetimes are token validities in seconds; 0 means the default.
type tokenLifetimes struct {
	IDTokenSeconds      int64 `json:"id_token_seconds"`
	AccessTokenSeconds  int64 `json:"access_token_seconds"`
	RefreshTokenSeconds int64 `json:"refresh_token_seconds"`
}

func lifetimes(t identity.TokenLifetimes) tokenLifetimes {
	return tokenLifetimes{IDTokenSeconds: int64(t.ID / time.Second), AccessTokenSeconds: int64(t.Access / time.Second),
		RefreshTokenSeconds: int64(t.Refresh / time.Second)}
}

// maxLifetimeSeconds bounds token lifetimes before they become Durations
// (3,650 days, Cognito's refresh maximum), so no overflow reaches the service.
const maxLifetimeSeconds = 3650 * 24 * 3600

func (t tokenLifetimes) domain(field string) (identity.TokenLifetimes, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{{"id_token_seconds", t.IDTokenSeconds}, {"access_token_seconds", t.AccessTokenSeconds}, {"refresh_token_seconds", t.RefreshTokenSeconds}} {
		if f.v < 0 || f.v > maxLifetimeSeconds {
			return identity.TokenLifetimes{}, identity.FieldError(field+"."+f.name, "%s.%s must be from 0 to %d.", field, f.name, maxLifetimeSeconds)
		}
	}
	return identity.TokenLifetimes{ID: time.Duration(t.IDTokenSeconds) * time.Second,
		Access:  time.Duration(t.AccessTokenSeconds) * time.Second,
		Refresh: time.Duration(t.RefreshTokenSeconds) * time.Second}, nil
}

type poolView struct {
	ID                             string                  `json:"id"`
	Name                           string                  `json:"name"`
	Issuer                         string                  `json:"issuer,omitempty"`
	Domains                        []string                `json:"domains"`
	BaseURL                        string                  `json:"base_url,omitempty"`
	UsernameMode                   string                  `json:"username_mode"`
	UniqueEmail                    bool                    `json:"unique_email"`
	PreventUserExistenceErrors     bool                    `json:"prevent_user_existence_errors"`
	AdminCreateUserOnly            bool                    `json:"admin_create_user_only"`
	PasswordPolicy                 identity.PasswordPolicy `json:"password_policy"`
	Schema                         []identity.AttributeDef `json:"schema"`
	TokenLifetimes                 tokenLifetimes          `json:"token_lifetimes"`
	SigningAlg                     string                  `json:"signing_alg"`
	MaxFailedAttempts              int                     `json:"max_failed_attempts"`
	LockoutDurationSeconds         int64                   `json:"lockout_duration_seconds"`
	EmailUpdateWithoutVerification bool                    `json:"email_update_without_verification"`
	CreatedAt                      *time.Time              `json:"created_at,omitempty"`
	UpdatedAt                      *time.Time              `json:"updated_at,omitempty"`
}

func (a *API) pool(p *identity.Pool) poolView {
	schema := p.Schema
	if schema == nil {
		schema = []identity.AttributeDef{}
	}
	pp := p.PasswordPolicy
	return poolView{ID: p.ID, Name: p.Name, Issuer: a.svc.Issuer(p), Domains: strs(p.Domains), BaseURL: p.BaseURL,
		UsernameMode: string(p.UsernameMode), UniqueEmail: p.UniqueEmail,
		PreventUserExistenceErrors: p.PreventUserExistenceErrors, AdminCreateUserOnly: p.AdminCreateUserOnly,
		PasswordPolicy: pp, Schema: schema, TokenLifetimes: lifetimes(p.Tokens), SigningAlg: p.SigningAlg,
		MaxFailedAttempts: p.MaxFailedAttempts, LockoutDurationSeconds: int64(p.LockoutDuration / time.Second),
		EmailUpdateWithoutVerification: p.Settings.UserAttributeUpdate.EmailWithoutVerification,
		CreatedAt:                      tsp(p.CreatedAt), UpdatedAt: tsp(p.UpdatedAt)}
}

type clientView struct {
	ID              string         `json:"id"`
	PoolID          string         `json:"pool_id"`
	Name            string         `json:"name"`
	HasSecret       bool           `json:"has_secret"`
	ClientSecret    string         `json:"client_secret,omitempty"` // create and regenerate only
	AuthFlows       []string       `json:"auth_flows"`
	TokenLifetimes  tokenLifetimes `json:"token_lifetimes"`
	ReadAttributes  []string       `json:"read_attributes"`
	WriteAttributes []string       `json:"write_attributes"`
	CallbackURLs    []string       `json:"callback_urls"`
	LogoutURLs      []string       `json:"logout_urls"`
	OAuthFlows      []string       `json:"oauth_flows"`
	OAuthScopes     []string       `json:"oauth_scopes"`
	// "" means RS256 (the OpenID default).
	IDTokenSignedResponseAlg string     `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI     string     `json:"backchannel_logout_uri,omitempty"`
	RefreshTokenRotation     bool       `json:"refresh_token_rotation"`
	RefreshTokenRetryGrace   int        `json:"refresh_token_retry_grace_seconds"`
	CreatedAt                *time.Time `json:"created_at,omitempty"`
	UpdatedAt                *time.Time `json:"updated_at,omitempty"`
}

func appClient(c *identity.AppClient) clientView {
	return clientView{ID: c.ID, PoolID: c.PoolID, Name: c.Name, HasSecret: c.HasSecret(),
		AuthFlows: strs(c.AuthFlows), TokenLifetimes: lifetimes(c.Tokens), ReadAttributes: strs(c.ReadAttributes),
		WriteAttributes: strs(c.WriteAttributes), CallbackURLs: strs(c.CallbackURLs), LogoutURLs: strs(c.LogoutURLs),
		OAuthFlows: strs(c.OAuthFlows), OAuthScopes: strs(c.OAuthScopes), CreatedAt: tsp(c.CreatedAt), UpdatedAt: tsp(c.UpdatedAt),
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, BackchannelLogoutURI: c.BackchannelLogoutURI,
		RefreshTokenRotation: c.Rotates(), RefreshTokenRetryGrace: c.RefreshGraceSeconds}
}

type groupView struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Precedence  *int       `json:"precedence,omitempty"`
	RoleARN     string     `json:"role_arn,omitempty"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
}

func group(g *identity.Group) groupView {
	return groupView{Name: g.Name, Description: g.Description, Precedence: g.Precedence, RoleARN: g.RoleARN,
		CreatedAt: tsp(g.CreatedAt), UpdatedAt: tsp(g.UpdatedAt)}
}

type signingKeyView struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
}

func signingKey(k *identity.SigningKey) signingKeyView {
	return signingKeyView{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: tsp(k.CreatedAt), ActivatedAt: tsp(k.ActivatedAt)}
}

type emailView struct {
	ID        int64      `json:"id"`
	PoolID    string     `json:"pool_id"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Text      string     `json:"text"`
	HTML      string     `json:"html,omitempty"`
	Template  string     `json:"template,omitempty"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	JobID     int64      `json:"job_id,omitempty"`
}

func email(e *identity.Email) emailView {
	return emailView{ID: e.ID, PoolID: e.PoolID, To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML,
		Template: e.Template, Status: e.Status, Attempts: e.Attempts, LastError: e.LastError,
		CreatedAt: tsp(e.CreatedAt), SentAt: tsp(e.SentAt), JobID: e.JobID}
}

type auditView struct {
	ID      int64             `json:"id"`
	PoolID  string            `json:"pool_id,omitempty"`
	Time    *time.Time        `json:"time,omitempty"`
	Actor   string            `json:"actor"`
	Via     string            `json:"via,omitempty"`
	Action  string            `json:"action"`
	Subject string            `json:"subject,omitempty"`
	Detail  map[string]string `json:"detail,omitempty"`
	IP      string            `json:"ip,omitempty"`
}

func audit(e *identity.AuditEvent) auditView {
	return auditView{ID: e.ID, PoolID: e.PoolID, Time: tsp(e.Time), Actor: e.Actor, Via: e.Via, Action: e.Action,
		Subject: e.Subject, Detail: e.Detail, IP: e.IP}
}
