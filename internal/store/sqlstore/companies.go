package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Companies: one row per company keyed by the lower-cased name (so names
// are unique case-insensitively), its email domains in company_domains
// (primary key (pool, domain): a domain belongs to one company), and the
// approvers who are or will be users in company_approvers (migration
// 0030): the index of "which companies does sub approve for" and "which
// companies await an account with this address", rewritten from the
// approvers JSON (the record) by every write of a company, in its
// transaction, and removed with the company by the foreign key.

const companyCols = `c.pool_id, c.name, c.display_name, c.group_name, c.approvers, c.status, c.created_at, c.updated_at, c.require_mfa`

func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

func scanCompany(sc interface{ Scan(...any) error }) (*identity.Company, error) {
	var (
		c       identity.Company
		appr    string
		cr, upd int64
		mfa     int
	)
	if err := sc.Scan(&c.PoolID, &c.Name, &c.DisplayName, &c.Group, &appr, &c.Status, &cr, &upd, &mfa); err != nil {
		return nil, err
	}
	c.RequireMFA = mfa != 0
	if err := fromJSON(appr, &c.Approvers); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(cr), fromMS(upd)
	return &c, nil
}

// loadDomains fills EmailDomains of the companies (sorted). The domains
// are sorted here, not by the statement: with ORDER BY domain SQLite
// walked the primary key (pool_id, domain) in order, every domain of the
// pool, rather than company_domains_company (TestQueryPlans).
func (q *querier) loadDomains(ctx context.Context, list ...*identity.Company) error {
	for _, c := range list {
		rows, err := q.query(ctx, false, `SELECT domain FROM company_domains WHERE pool_id = ? AND name_key = ?`, c.PoolID, nameKey(c.Name))
		if err != nil {
			return err
		}
		c.EmailDomains = c.EmailDomains[:0]
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return err
			}
			c.EmailDomains = append(c.EmailDomains, d)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
		sort.Strings(c.EmailDomains)
	}
	return nil
}

func (q *querier) writeDomains(ctx context.Context, c *identity.Company) error {
	key := nameKey(c.Name)
	if _, err := q.exec(ctx, `DELETE FROM company_domains WHERE pool_id = ? AND name_key = ?`, c.PoolID, key); err != nil {
		return err
	}
	for _, d := range c.EmailDomains {
		if _, err := q.exec(ctx, `INSERT INTO company_domains (pool_id, domain, name_key) VALUES (?,?,?)`, c.PoolID, strings.ToLower(d), key); err != nil {
			return err
		}
	}
	return nil
}

// Approver index kinds (company_approvers.kind).
const (
	approverSub      = "sub"
	approverAwaiting = "awaiting"
)

// writeApprovers replaces the company's rows of the approvers index with
// those of c.Approvers: each Sub, and the Email of each AwaitingAccount
// approver as stored (the service stores them lower-cased; the lookup
// lower-cases the address it is given). Migration 0030 derives the same
// rows from the JSON.
func (q *querier) writeApprovers(ctx context.Context, c *identity.Company) error {
	key := nameKey(c.Name)
	if _, err := q.exec(ctx, `DELETE FROM company_approvers WHERE pool_id = ? AND name_key = ?`, c.PoolID, key); err != nil {
		return err
	}
	put := func(kind, value string) error {
		if value == "" {
			return nil
		}
		_, err := q.exec(ctx, `INSERT INTO company_approvers (pool_id, name_key, kind, value) VALUES (?,?,?,?)
			ON CONFLICT DO NOTHING`, c.PoolID, key, kind, value)
		return err
	}
	for _, a := range c.Approvers {
		if err := put(approverSub, a.Sub); err != nil {
			return err
		}
		if a.AwaitingAccount {
			if err := put(approverAwaiting, a.Email); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateCompany inserts c and its domains. ErrConflict if the name (any
// case) or a domain is taken in the pool; ErrNotFound if the pool is missing.
func (q *querier) CreateCompany(ctx context.Context, c *identity.Company) error {
	appr, err := jsonText(nonNilApprovers(c.Approvers))
	if err != nil {
		return err
	}
	return q.atomic(ctx, func(q *querier) error {
		if _, err := q.exec(ctx, `INSERT INTO companies (pool_id, name_key, name, display_name, search_key, group_name, approvers, status, created_at, updated_at, require_mfa)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, c.PoolID, nameKey(c.Name), c.Name, c.DisplayName, store.FoldName(c.DisplayName), c.Group, appr, c.Status,
			ms(c.CreatedAt), ms(c.UpdatedAt), b2i(c.RequireMFA)); err != nil {
			return err
		}
		if err := q.writeApprovers(ctx, c); err != nil {
			return err
		}
		return q.writeDomains(ctx, c)
	})
}

func nonNilApprovers(a []identity.Approver) []identity.Approver {
	if a == nil {
		return []identity.Approver{}
	}
	return a
}

// GetCompany returns the company named name (any case) or ErrNotFound.
func (q *querier) GetCompany(ctx context.Context, poolID, name string) (*identity.Company, error) {
	c, err := scanCompany(q.queryRow(ctx, false, `SELECT `+companyCols+` FROM companies c WHERE c.pool_id = ? AND c.name_key = ?`, poolID, nameKey(name)))
	if err != nil {
		return nil, q.scanErr(err, "company "+name)
	}
	return c, q.loadDomains(ctx, c)
}

// GetCompanyByDomain returns the company owning the email domain.
func (q *querier) GetCompanyByDomain(ctx context.Context, poolID, domain string) (*identity.Company, error) {
	c, err := scanCompany(q.queryRow(ctx, false, `SELECT `+companyCols+` FROM companies c
		JOIN company_domains d ON d.pool_id = c.pool_id AND d.name_key = c.name_key
		WHERE d.pool_id = ? AND d.domain = ?`, poolID, strings.ToLower(domain)))
	if err != nil {
		return nil, q.scanErr(err, "company for domain "+domain)
	}
	return c, q.loadDomains(ctx, c)
}

// ListCompanies lists the pool's companies by lower-cased name.
func (q *querier) ListCompanies(ctx context.Context, poolID string, page store.Page) ([]*identity.Company, string, error) {
	after := ""
	if page.Token != "" {
		if err := decodeToken(page.Token, &after); err != nil {
			return nil, "", err
		}
	}
	n := page.Size()
	rows, err := q.query(ctx, false, `SELECT `+companyCols+` FROM companies c WHERE c.pool_id = ? AND c.name_key > ?
		ORDER BY c.name_key LIMIT ?`, poolID, after, n+1)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanCompany)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(nameKey(list[n-1].Name))
	}
	return list, next, q.loadDomains(ctx, list...)
}

// UpdateCompany writes display name, group, approvers, status, domains
// and UpdatedAt. ErrNotFound if missing; ErrConflict if a domain is taken.
func (q *querier) UpdateCompany(ctx context.Context, c *identity.Company) error {
	appr, err := jsonText(nonNilApprovers(c.Approvers))
	if err != nil {
		return err
	}
	return q.atomic(ctx, func(q *querier) error {
		if err := q.execOne(ctx, "company "+c.Name, `UPDATE companies SET display_name = ?, search_key = ?, group_name = ?, approvers = ?, status = ?, updated_at = ?, require_mfa = ?
			WHERE pool_id = ? AND name_key = ?`, c.DisplayName, store.FoldName(c.DisplayName), c.Group, appr, c.Status, ms(c.UpdatedAt), b2i(c.RequireMFA),
			c.PoolID, nameKey(c.Name)); err != nil {
			return err
		}
		if err := q.writeApprovers(ctx, c); err != nil {
			return err
		}
		return q.writeDomains(ctx, c)
	})
}

// ListCompaniesApprovedBy returns the companies that list sub as an
// approver, by name key, from the approvers index (one index range, then
// each company by its primary key).
func (q *querier) ListCompaniesApprovedBy(ctx context.Context, poolID, sub string) ([]*identity.Company, error) {
	return q.companiesByApprover(ctx, poolID, approverSub, sub)
}

// ListCompaniesAwaitingApprover returns the companies that list email
// (lower-cased here) as an approver awaiting an account, by name key.
func (q *querier) ListCompaniesAwaitingApprover(ctx context.Context, poolID, email string) ([]*identity.Company, error) {
	return q.companiesByApprover(ctx, poolID, approverAwaiting, strings.ToLower(email))
}

func (q *querier) companiesByApprover(ctx context.Context, poolID, kind, value string) ([]*identity.Company, error) {
	if value == "" {
		return nil, nil
	}
	rows, err := q.query(ctx, false, `SELECT `+companyCols+` FROM company_approvers a
		JOIN companies c ON c.pool_id = a.pool_id AND c.name_key = a.name_key
		WHERE a.pool_id = ? AND a.kind = ? AND a.value = ? ORDER BY a.name_key`, poolID, kind, value)
	if err != nil {
		return nil, fmt.Errorf("companies by approver: %w", err)
	}
	list, err := collect(rows, scanCompany)
	if err != nil {
		return nil, err
	}
	return list, q.loadDomains(ctx, list...)
}

// ListCompaniesByGroup returns the companies whose group is group: their
// group_name, or their name when they have none (the service always
// stores one; auth.companyGroup reads an empty one as the name), by name
// key. Two index reads (companies_group, migration 0030, and the primary
// key), sorted here: with ORDER BY or an OR, SQLite walked the pool's
// companies in key order (TestQueryPlans).
func (q *querier) ListCompaniesByGroup(ctx context.Context, poolID, group string) ([]*identity.Company, error) {
	if group == "" {
		return nil, nil
	}
	rows, err := q.query(ctx, false, `SELECT `+companyCols+` FROM companies c WHERE c.pool_id = ? AND c.group_name = ?
		UNION ALL
		SELECT `+companyCols+` FROM companies c WHERE c.pool_id = ? AND c.name_key = ? AND c.group_name = '' AND c.name = ?`,
		poolID, group, poolID, nameKey(group), group)
	if err != nil {
		return nil, fmt.Errorf("companies by group: %w", err)
	}
	list, err := collect(rows, scanCompany)
	if err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return nameKey(list[i].Name) < nameKey(list[j].Name) })
	return list, q.loadDomains(ctx, list...)
}

// DeleteCompany deletes the company and its domains.
func (q *querier) DeleteCompany(ctx context.Context, poolID, name string) error {
	return q.execOne(ctx, "company "+name, `DELETE FROM companies WHERE pool_id = ? AND name_key = ?`, poolID, nameKey(name))
}

// SearchCompanies returns active companies whose folded display name
// starts with prefix (compared by substr, so no LIKE escaping is needed).
func (q *querier) SearchCompanies(ctx context.Context, poolID, prefix string, limit int) ([]*identity.Company, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	// The prefix as an index range (match, userlist.go; PostgreSQL's
	// COLLATE "C" index is migration 0029's companies_search_c), read in
	// order: a type-ahead reads its page, not the pool's companies.
	key := `c.search_key` + q.d.PrefixCollate
	cond, args, lower, lowerArgs := match(key, store.FilterPrefix, prefix, q.d)
	args = append(append(append([]any{poolID, identity.CompanyActive}, args...), lowerArgs...), limit)
	rows, err := q.query(ctx, false, `SELECT `+companyCols+` FROM companies c
		WHERE c.pool_id = ? AND c.status = ? AND `+cond+` AND `+lower+`
		ORDER BY `+key+`, c.name_key LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("search companies: %w", err)
	}
	return collect(rows, scanCompany)
}
