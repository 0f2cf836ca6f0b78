package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// printer writes command results as aligned tables or JSON (--output).
type printer struct {
	w    io.Writer
	json bool
}

func (a *app) printer() (*printer, error) {
	switch a.output {
	case "", "table", "text":
		return &printer{w: a.stdout}, nil
	case "json":
		return &printer{w: a.stdout, json: true}, nil
	}
	return nil, fmt.Errorf("--output %q: want table or json", a.output)
}

// table prints rows under headers; v is what --output json prints instead.
func (p *printer) table(headers []string, rows [][]string, v any) error {
	if p.json {
		return p.JSON(v)
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// fields prints one object as "key: value" lines, or v as JSON.
func (p *printer) fields(kv [][2]string, v any) error {
	if p.json {
		return p.JSON(v)
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	for _, f := range kv {
		fmt.Fprintf(tw, "%s:\t%s\n", f[0], f[1])
	}
	return tw.Flush()
}

// JSON prints v indented.
func (p *printer) JSON(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtList(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

func fmtBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func enabledWord(b bool) string {
	if b {
		return "Enabled"
	}
	return "Disabled"
}

// JSON views: stable lower_snake field names, never secrets or hashes.

type poolJSON struct {
	ID                         string                  `json:"id"`
	Name                       string                  `json:"name"`
	Domains                    []string                `json:"domains,omitempty"`
	BaseURL                    string                  `json:"base_url,omitempty"`
	UsernameMode               identity.UsernameMode   `json:"username_mode"`
	UniqueEmail                bool                    `json:"unique_email"`
	PreventUserExistenceErrors bool                    `json:"prevent_user_existence_errors"`
	AdminCreateUserOnly        bool                    `json:"admin_create_user_only"`
	PasswordPolicy             identity.PasswordPolicy `json:"password_policy"`
	Schema                     []identity.AttributeDef `json:"schema,omitempty"`
	Tokens                     tokensJSON              `json:"tokens"`
	SigningAlg                 string                  `json:"signing_alg"`
	MaxFailedAttempts          int                     `json:"max_failed_attempts"`
	LockoutDuration            string                  `json:"lockout_duration"`
	CreatedAt                  time.Time               `json:"created_at"`
	UpdatedAt                  time.Time               `json:"updated_at"`
}

type tokensJSON struct {
	ID      string `json:"id,omitempty"`
	Access  string `json:"access,omitempty"`
	Refresh string `json:"refresh,omitempty"`
}

func durStr(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func tokensView(t identity.TokenLifetimes) tokensJSON {
	return tokensJSON{ID: durStr(t.ID), Access: durStr(t.Access), Refresh: durStr(t.Refresh)}
}

func poolView(p *identity.Pool) poolJSON {
	return poolJSON{
		ID: p.ID, Name: p.Name, Domains: p.Domains, BaseURL: p.BaseURL, UsernameMode: p.UsernameMode,
		UniqueEmail: p.UniqueEmail, PreventUserExistenceErrors: p.PreventUserExistenceErrors,
		AdminCreateUserOnly: p.AdminCreateUserOnly, PasswordPolicy: p.PasswordPolicy, Schema: p.Schema,
		Tokens: tokensView(p.Tokens), SigningAlg: p.SigningAlg, MaxFailedAttempts: p.MaxFailedAttempts,
		LockoutDuration: durStr(p.LockoutDuration), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

type clientJSON struct {
	ID              string     `json:"id"`
	PoolID          string     `json:"pool_id"`
	Name            string     `json:"name"`
	HasSecret       bool       `json:"has_secret"`
	Secret          string     `json:"secret,omitempty"` // only right after creation/rotation
	AuthFlows       []string   `json:"auth_flows"`
	Tokens          tokensJSON `json:"tokens"`
	ReadAttributes  []string   `json:"read_attributes,omitempty"`
	WriteAttributes []string   `json:"write_attributes,omitempty"`
	CallbackURLs    []string   `json:"callback_urls,omitempty"`
	LogoutURLs      []string   `json:"logout_urls,omitempty"`
	OAuthFlows      []string   `json:"oauth_flows,omitempty"`
	OAuthScopes     []string   `json:"oauth_scopes,omitempty"`
	IDTokenAlg      string     `json:"id_token_signed_response_alg,omitempty"`
	BackchannelURI  string     `json:"backchannel_logout_uri,omitempty"`
	RefreshRotation bool       `json:"refresh_token_rotation"`
	RefreshGrace    int        `json:"refresh_token_retry_grace_seconds"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

func clientView(c *identity.AppClient, secret string) clientJSON {
	return clientJSON{
		ID: c.ID, PoolID: c.PoolID, Name: c.Name, HasSecret: c.HasSecret(), Secret: secret,
		AuthFlows: c.AuthFlows, Tokens: tokensView(c.Tokens), ReadAttributes: c.ReadAttributes,
		WriteAttributes: c.WriteAttributes, CallbackURLs: c.CallbackURLs, LogoutURLs: c.LogoutURLs,
		OAuthFlows: c.OAuthFlows, OAuthScopes: c.OAuthScopes, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		IDTokenAlg: c.IDTokenSignedResponseAlg, BackchannelURI: c.BackchannelLogoutURI,
		RefreshRotation: c.Rotates(), RefreshGrace: c.RefreshGraceSeconds,
	}
}

// fmtRotation is a client's refresh token rotation for the text output.
func fmtRotation(c *identity.AppClient) string {
	if !c.Rotates() {
		return "tokens do not rotate"
	}
	return fmt.Sprintf("tokens rotate (retry grace %d s)", c.RefreshGraceSeconds)
}

type userJSON struct {
	Sub           string            `json:"sub"`
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"email_verified"`
	Status        string            `json:"status"`
	Enabled       bool              `json:"enabled"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Groups        []string          `json:"groups,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

func userView(u *identity.User, groups []string) userJSON {
	return userJSON{
		Sub: u.Sub, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		Status: string(u.Status), Enabled: u.Enabled, Attributes: u.Attributes, Groups: groups,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

type groupJSON struct {
	PoolID      string    `json:"pool_id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Precedence  *int      `json:"precedence,omitempty"`
	RoleARN     string    `json:"role_arn,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func groupView(g *identity.Group) groupJSON {
	return groupJSON{PoolID: g.PoolID, Name: g.Name, Description: g.Description, Precedence: g.Precedence, RoleARN: g.RoleARN, CreatedAt: g.CreatedAt}
}

type apiKeyJSON struct {
	ID         string    `json:"id"`
	PoolID     string    `json:"pool_id"` // "" = global
	Name       string    `json:"name"`
	Token      string    `json:"token,omitempty"` // only at creation
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	RevokedAt  time.Time `json:"revoked_at"`
}

func apiKeyView(k *identity.APIKey, tok string) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, PoolID: k.PoolID, Name: k.Name, Token: tok, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func fmtPrecedence(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func sortedAttrs(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}
