package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

const poolCols = `id, name, domains, base_url, username_mode, unique_email,
	prevent_user_existence_errors, admin_create_user_only, password_policy,
	attr_schema, tokens, signing_alg, max_failed_attempts, lockout_ms,
	created_at, updated_at, settings`

func poolArgs(p *identity.Pool) ([]any, error) {
	domains := p.Domains
	if domains == nil {
		domains = []string{}
	}
	d, err := jsonText(domains)
	if err != nil {
		return nil, err
	}
	pp, err := jsonText(p.PasswordPolicy)
	if err != nil {
		return nil, err
	}
	schema := p.Schema
	if schema == nil {
		schema = []identity.AttributeDef{}
	}
	sc, err := jsonText(schema)
	if err != nil {
		return nil, err
	}
	tk, err := jsonText(p.Tokens)
	if err != nil {
		return nil, err
	}
	st, err := jsonText(p.Settings)
	if err != nil {
		return nil, err
	}
	return []any{p.ID, p.Name, d, p.BaseURL, string(p.UsernameMode), b2i(p.UniqueEmail),
		b2i(p.PreventUserExistenceErrors), b2i(p.AdminCreateUserOnly), pp, sc, tk,
		p.SigningAlg, p.MaxFailedAttempts, p.LockoutDuration.Milliseconds(),
		ms(p.CreatedAt), ms(p.UpdatedAt), st}, nil
}

func scanPool(sc interface{ Scan(...any) error }) (*identity.Pool, error) {
	var (
		p                         identity.Pool
		domains, pp, schema, toks string
		settings                  string
		mode                      string
		ue, pue, acuo             int
		lockout, created, updated int64
	)
	if err := sc.Scan(&p.ID, &p.Name, &domains, &p.BaseURL, &mode, &ue, &pue, &acuo,
		&pp, &schema, &toks, &p.SigningAlg, &p.MaxFailedAttempts, &lockout, &created, &updated, &settings); err != nil {
		return nil, err
	}
	p.UsernameMode = identity.UsernameMode(mode)
	p.UniqueEmail, p.PreventUserExistenceErrors, p.AdminCreateUserOnly = ue != 0, pue != 0, acuo != 0
	p.LockoutDuration = time.Duration(lockout) * time.Millisecond
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	for _, f := range []struct {
		s string
		v any
	}{{domains, &p.Domains}, {pp, &p.PasswordPolicy}, {schema, &p.Schema}, {toks, &p.Tokens}, {settings, &p.Settings}} {
		if err := fromJSON(f.s, f.v); err != nil {
			return nil, err
		}
	}
	if len(p.Domains) == 0 {
		p.Domains = nil
	}
	if len(p.Schema) == 0 {
		p.Schema = nil
	}
	return &p, nil
}

// CreatePool inserts p. ErrConflict if the id is taken.
func (q *querier) CreatePool(ctx context.Context, p *identity.Pool) error {
	args, err := poolArgs(p)
	if err != nil {
		return err
	}
	err = q.execGuarded(ctx, `INSERT INTO pools (`+poolCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	return err
}

// GetPool returns the pool or ErrNotFound.
func (q *querier) GetPool(ctx context.Context, id string) (*identity.Pool, error) {
	p, err := scanPool(q.queryRow(ctx, false, `SELECT `+poolCols+` FROM pools WHERE id = ?`, id))
	if err != nil {
		return nil, q.scanErr(err, "pool "+id)
	}
	return p, nil
}

// ListPools lists pools ordered by id.
func (q *querier) ListPools(ctx context.Context, page store.Page) ([]*identity.Pool, string, error) {
	after := ""
	if page.Token != "" {
		if err := decodeToken(page.Token, &after); err != nil {
			return nil, "", err
		}
	}
	n := page.Size()
	rows, err := q.query(ctx, false, `SELECT `+poolCols+` FROM pools WHERE id > ? ORDER BY id LIMIT ?`, after, n+1)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanPool)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(list[n-1].ID)
	}
	return list, next, nil
}

// UpdatePool writes every field of p except its id and CreatedAt.
func (q *querier) UpdatePool(ctx context.Context, p *identity.Pool) error {
	args, err := poolArgs(p)
	if err != nil {
		return err
	}
	// args: id first, then 13 fields, created_at, updated_at, settings.
	set := append(args[1:14:14], args[15], args[16], p.ID)
	return q.execOne(ctx, "pool "+p.ID, `UPDATE pools SET name = ?, domains = ?, base_url = ?,
		username_mode = ?, unique_email = ?, prevent_user_existence_errors = ?,
		admin_create_user_only = ?, password_policy = ?, attr_schema = ?, tokens = ?,
		signing_alg = ?, max_failed_attempts = ?, lockout_ms = ?, updated_at = ?,
		settings = ? WHERE id = ?`, set...)
}

// DeletePool deletes the pool; foreign keys cascade to everything in it
// except audit events.
func (q *querier) DeletePool(ctx context.Context, id string) error {
	return q.execOne(ctx, "pool "+id, `DELETE FROM pools WHERE id = ?`, id)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// clientConfig is the JSON column holding an app client's lists.
type clientConfig struct {
	AuthFlows       []string                `json:"auth_flows,omitempty"`
	Tokens          identity.TokenLifetimes `json:"tokens"`
	ReadAttributes  []string                `json:"read_attributes,omitempty"`
	WriteAttributes []string                `json:"write_attributes,omitempty"`
	CallbackURLs    []string                `json:"callback_urls,omitempty"`
	LogoutURLs      []string                `json:"logout_urls,omitempty"`
	OAuthFlows      []string                `json:"oauth_flows,omitempty"`
	OAuthScopes     []string                `json:"oauth_scopes,omitempty"`
	IDTokenAlg      string                  `json:"id_token_signed_response_alg,omitempty"`
	BackchannelURI  string                  `json:"backchannel_logout_uri,omitempty"`
	// Refresh token rotation: absent is identity.RotationAlways, what
	// every client did before the setting existed.
	RefreshRotation identity.RefreshRotation `json:"refresh_rotation,omitempty"`
	RefreshGrace    int                      `json:"refresh_grace_seconds,omitempty"`
}

const clientCols = `id, pool_id, name, secret_hash, config, created_at, updated_at, secret_sealed`

func clientConfigText(c *identity.AppClient) (string, error) {
	return jsonText(clientConfig{c.AuthFlows, c.Tokens, c.ReadAttributes, c.WriteAttributes,
		c.CallbackURLs, c.LogoutURLs, c.OAuthFlows, c.OAuthScopes, c.IDTokenSignedResponseAlg, c.BackchannelLogoutURI,
		c.RefreshRotation, c.RefreshGraceSeconds})
}

func scanClient(sc interface{ Scan(...any) error }) (*identity.AppClient, error) {
	var (
		c                identity.AppClient
		cfgText          string
		created, updated int64
	)
	if err := sc.Scan(&c.ID, &c.PoolID, &c.Name, &c.SecretHash, &cfgText, &created, &updated, &c.SecretSealed); err != nil {
		return nil, err
	}
	var cfg clientConfig
	if err := fromJSON(cfgText, &cfg); err != nil {
		return nil, err
	}
	c.AuthFlows, c.Tokens, c.ReadAttributes, c.WriteAttributes = cfg.AuthFlows, cfg.Tokens, cfg.ReadAttributes, cfg.WriteAttributes
	c.CallbackURLs, c.LogoutURLs, c.OAuthFlows, c.OAuthScopes = cfg.CallbackURLs, cfg.LogoutURLs, cfg.OAuthFlows, cfg.OAuthScopes
	c.IDTokenSignedResponseAlg, c.BackchannelLogoutURI = cfg.IDTokenAlg, cfg.BackchannelURI
	c.RefreshRotation, c.RefreshGraceSeconds = cfg.RefreshRotation, cfg.RefreshGrace
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return &c, nil
}

// CreateClient inserts c. ErrConflict if the id is taken; ErrNotFound if
// the pool does not exist.
func (q *querier) CreateClient(ctx context.Context, c *identity.AppClient) error {
	cfg, err := clientConfigText(c)
	if err != nil {
		return err
	}
	err = q.execGuarded(ctx, `INSERT INTO clients (`+clientCols+`) VALUES (?,?,?,?,?,?,?,?)`,
		c.ID, c.PoolID, c.Name, c.SecretHash, cfg, ms(c.CreatedAt), ms(c.UpdatedAt), c.SecretSealed)
	return err
}

// GetClient returns the client with that (globally unique) id.
func (q *querier) GetClient(ctx context.Context, clientID string) (*identity.AppClient, error) {
	c, err := scanClient(q.queryRow(ctx, false, `SELECT `+clientCols+` FROM clients WHERE id = ?`, clientID))
	if err != nil {
		return nil, q.scanErr(err, "client "+clientID)
	}
	return c, nil
}

// ListClients lists a pool's clients ordered by id.
func (q *querier) ListClients(ctx context.Context, poolID string, page store.Page) ([]*identity.AppClient, string, error) {
	after := ""
	if page.Token != "" {
		if err := decodeToken(page.Token, &after); err != nil {
			return nil, "", err
		}
	}
	n := page.Size()
	rows, err := q.query(ctx, false, `SELECT `+clientCols+` FROM clients WHERE pool_id = ? AND id > ? ORDER BY id LIMIT ?`, poolID, after, n+1)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanClient)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(list[n-1].ID)
	}
	return list, next, nil
}

// UpdateClient writes every field of c except its ids and CreatedAt.
func (q *querier) UpdateClient(ctx context.Context, c *identity.AppClient) error {
	cfg, err := clientConfigText(c)
	if err != nil {
		return err
	}
	return q.execOne(ctx, "client "+c.ID, `UPDATE clients SET name = ?, secret_hash = ?, config = ?, updated_at = ?,
		secret_sealed = ? WHERE pool_id = ? AND id = ?`, c.Name, c.SecretHash, cfg, ms(c.UpdatedAt),
		c.SecretSealed, c.PoolID, c.ID)
}

// DeleteClient deletes the client of that pool.
func (q *querier) DeleteClient(ctx context.Context, poolID, clientID string) error {
	return q.execOne(ctx, fmt.Sprintf("client %s", clientID), `DELETE FROM clients WHERE pool_id = ? AND id = ?`, poolID, clientID)
}
