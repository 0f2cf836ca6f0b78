package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// SCIM externalIds and pushed groups (migration 0026).

// SetSCIMExternalID sets (or, with "", removes) the externalId of the
// member sub of company.
func (q *querier) SetSCIMExternalID(ctx context.Context, poolID, company, sub, externalID string) error {
	if externalID == "" {
		_, err := q.exec(ctx, `DELETE FROM scim_user_ids WHERE pool_id = ? AND user_sub = ?`, poolID, sub)
		return err
	}
	return q.execGuarded(ctx, `INSERT INTO scim_user_ids (pool_id, company_key, user_sub, external_id) VALUES (?,?,?,?)
		ON CONFLICT (pool_id, user_sub) DO UPDATE SET company_key = excluded.company_key, external_id = excluded.external_id`,
		poolID, nameKey(company), sub, externalID)
}

// ListSCIMExternalIDs returns the company's externalIds by user sub.
func (q *querier) ListSCIMExternalIDs(ctx context.Context, poolID, company string) (map[string]string, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT user_sub, external_id FROM scim_user_ids WHERE pool_id = ? AND company_key = ?`,
		poolID, nameKey(company))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var sub, ext string
		if err := rows.Scan(&sub, &ext); err != nil {
			return nil, q.mapErr(err)
		}
		out[sub] = ext
	}
	return out, q.mapErr(rows.Err())
}

const scimGroupCols = `c.name, g.id, g.display_name, g.external_id, g.pool_group, g.created_at, g.updated_at
	FROM scim_groups g JOIN companies c ON c.pool_id = g.pool_id AND c.name_key = g.company_key`

func scanSCIMGroup(poolID string, sc interface{ Scan(...any) error }) (*identity.SCIMGroup, error) {
	g := identity.SCIMGroup{PoolID: poolID}
	var cr, upd int64
	if err := sc.Scan(&g.Company, &g.ID, &g.DisplayName, &g.ExternalID, &g.PoolGroup, &cr, &upd); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMS(cr), fromMS(upd)
	return &g, nil
}

// PutSCIMGroup inserts or replaces a pushed group (by pool and id).
func (q *querier) PutSCIMGroup(ctx context.Context, g *identity.SCIMGroup) error {
	return q.execGuarded(ctx, `INSERT INTO scim_groups (pool_id, company_key, id, display_name, display_key, external_id, pool_group, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT (pool_id, id) DO UPDATE SET display_name = excluded.display_name, display_key = excluded.display_key,
			external_id = excluded.external_id, pool_group = excluded.pool_group, updated_at = excluded.updated_at`,
		g.PoolID, nameKey(g.Company), g.ID, g.DisplayName, strings.ToLower(g.DisplayName), g.ExternalID, g.PoolGroup, ms(g.CreatedAt), ms(g.UpdatedAt))
}

// GetSCIMGroup returns the company's pushed group id.
func (q *querier) GetSCIMGroup(ctx context.Context, poolID, company, id string) (*identity.SCIMGroup, error) {
	g, err := scanSCIMGroup(poolID, q.queryRow(ctx, q.inTx, `SELECT `+scimGroupCols+
		` WHERE g.pool_id = ? AND g.company_key = ? AND g.id = ?`, poolID, nameKey(company), id))
	if err != nil {
		return nil, q.scanErr(err, "scim group")
	}
	return g, nil
}

// ListSCIMGroups returns the company's pushed groups, oldest first.
func (q *querier) ListSCIMGroups(ctx context.Context, poolID, company string) ([]*identity.SCIMGroup, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT `+scimGroupCols+
		` WHERE g.pool_id = ? AND g.company_key = ? ORDER BY g.created_at, g.id`, poolID, nameKey(company))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.SCIMGroup
	for rows.Next() {
		g, err := scanSCIMGroup(poolID, rows)
		if err != nil {
			return nil, q.mapErr(err)
		}
		out = append(out, g)
	}
	return out, q.mapErr(rows.Err())
}

// DeleteSCIMGroup removes the company's pushed group id.
func (q *querier) DeleteSCIMGroup(ctx context.Context, poolID, company, id string) error {
	return q.execOne(ctx, "scim group", `DELETE FROM scim_groups WHERE pool_id = ? AND company_key = ? AND id = ?`,
		poolID, nameKey(company), id)
}

// DomainRequiresSSO tells, in one read, whether the active company owning
// domain has a provider that requires single sign-on.
func (q *querier) DomainRequiresSSO(ctx context.Context, poolID, domain string) (bool, error) {
	var req int
	err := q.queryRow(ctx, q.inTx, `SELECT i.require_sso FROM company_domains d
		JOIN companies c ON c.pool_id = d.pool_id AND c.name_key = d.name_key
		JOIN company_idps i ON i.pool_id = c.pool_id AND i.company_key = c.name_key
		WHERE d.pool_id = ? AND d.domain = ? AND c.status = ?`, poolID, strings.ToLower(domain), identity.CompanyActive).Scan(&req)
	if err != nil {
		if err = q.scanErr(err, "company provider"); errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return req != 0, nil
}

// DeleteSCIMToken removes the company's SCIM token; ErrNotFound if none.
func (q *querier) DeleteSCIMToken(ctx context.Context, poolID, company string) error {
	return q.execOne(ctx, "scim token", `DELETE FROM company_scim_tokens WHERE pool_id = ? AND company_key = ?`, poolID, nameKey(company))
}
