package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Company identity providers: one row per company (primary key pool and
// the company's name key), the provider name unique in the pool, the
// OIDC settings as JSON. Deleting the company deletes the row.

const companyIdPCols = `c.name, i.name, i.kind, i.config, i.require_sso, i.created_at, i.updated_at`

const companyIdPFrom = ` FROM company_idps i JOIN companies c ON c.pool_id = i.pool_id AND c.name_key = i.company_key`

func scanCompanyIdP(poolID string, sc interface{ Scan(...any) error }) (*identity.CompanyIdP, error) {
	var (
		c       = identity.CompanyIdP{PoolID: poolID}
		cfg     string
		req     int
		cr, upd int64
	)
	if err := sc.Scan(&c.Company, &c.Name, &c.Kind, &cfg, &req, &cr, &upd); err != nil {
		return nil, err
	}
	if err := fromJSON(cfg, &c.Provider); err != nil {
		return nil, err
	}
	c.RequireSSO, c.CreatedAt, c.UpdatedAt = req != 0, fromMS(cr), fromMS(upd)
	return &c, nil
}

// PutCompanyIdP inserts or replaces the company's provider.
func (q *querier) PutCompanyIdP(ctx context.Context, c *identity.CompanyIdP) error {
	cfg, err := jsonText(c.Provider)
	if err != nil {
		return err
	}
	return q.execGuarded(ctx, `INSERT INTO company_idps (pool_id, company_key, name, kind, config, require_sso, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT (pool_id, company_key) DO UPDATE SET name = excluded.name, kind = excluded.kind,
			config = excluded.config, require_sso = excluded.require_sso, updated_at = excluded.updated_at`,
		c.PoolID, nameKey(c.Company), c.Name, c.Kind, cfg, b2i(c.RequireSSO), ms(c.CreatedAt), ms(c.UpdatedAt))
}

// GetCompanyIdP returns the provider of the company (any case).
func (q *querier) GetCompanyIdP(ctx context.Context, poolID, company string) (*identity.CompanyIdP, error) {
	c, err := scanCompanyIdP(poolID, q.queryRow(ctx, q.inTx, `SELECT `+companyIdPCols+companyIdPFrom+
		` WHERE i.pool_id = ? AND i.company_key = ?`, poolID, nameKey(company)))
	if err != nil {
		return nil, q.scanErr(err, "company identity provider")
	}
	return c, nil
}

// GetCompanyIdPByName returns the company provider named name.
func (q *querier) GetCompanyIdPByName(ctx context.Context, poolID, name string) (*identity.CompanyIdP, error) {
	c, err := scanCompanyIdP(poolID, q.queryRow(ctx, q.inTx, `SELECT `+companyIdPCols+companyIdPFrom+
		` WHERE i.pool_id = ? AND i.name = ?`, poolID, name))
	if err != nil {
		return nil, q.scanErr(err, "company identity provider")
	}
	return c, nil
}

// ListCompanyIdPs returns the pool's company providers by company.
func (q *querier) ListCompanyIdPs(ctx context.Context, poolID string) ([]*identity.CompanyIdP, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT `+companyIdPCols+companyIdPFrom+` WHERE i.pool_id = ? ORDER BY i.company_key`, poolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.CompanyIdP
	for rows.Next() {
		c, err := scanCompanyIdP(poolID, rows)
		if err != nil {
			return nil, q.mapErr(err)
		}
		out = append(out, c)
	}
	return out, q.mapErr(rows.Err())
}

// DeleteCompanyIdP removes the company's provider; ErrNotFound if none.
func (q *querier) DeleteCompanyIdP(ctx context.Context, poolID, company string) error {
	return q.execOne(ctx, "company identity provider", `DELETE FROM company_idps WHERE pool_id = ? AND company_key = ?`,
		poolID, nameKey(company))
}

// UseSAMLAssertion records assertionID as used (primary key: a second use
// is ErrConflict), after dropping expired records.
func (q *querier) UseSAMLAssertion(ctx context.Context, poolID, assertionID string, expiresAt, now time.Time) error {
	if _, err := q.exec(ctx, `DELETE FROM saml_assertions WHERE expires_at < ?`, ms(now)); err != nil {
		return err
	}
	return q.execGuarded(ctx, `INSERT INTO saml_assertions (pool_id, assertion_id, expires_at) VALUES (?,?,?)`,
		poolID, assertionID, ms(expiresAt))
}

// PutSCIMToken sets the company's SCIM token hash.
func (q *querier) PutSCIMToken(ctx context.Context, poolID, company, hash string, at time.Time) error {
	return q.execGuarded(ctx, `INSERT INTO company_scim_tokens (pool_id, company_key, token_hash, created_at) VALUES (?,?,?,?)
		ON CONFLICT (pool_id, company_key) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
		poolID, nameKey(company), hash, ms(at))
}

// GetSCIMToken returns the company's SCIM token hash.
func (q *querier) GetSCIMToken(ctx context.Context, poolID, company string) (string, error) {
	var h string
	err := q.queryRow(ctx, q.inTx, `SELECT token_hash FROM company_scim_tokens WHERE pool_id = ? AND company_key = ?`,
		poolID, nameKey(company)).Scan(&h)
	if err != nil {
		return "", q.scanErr(err, "scim token")
	}
	return h, nil
}
