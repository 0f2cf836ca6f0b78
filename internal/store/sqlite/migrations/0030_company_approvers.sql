-- The approvers index (docs/architecture.md, "Companies and their
-- approvers"): one row per company and approver who is, or will become, a
-- user of the pool, so that "the companies sub approves for" (the
-- console's role on every request of a company admin) and "the companies
-- awaiting an account with this address" (an activation) are index reads
-- instead of a walk over every company of the pool. The company's
-- approvers JSON stays the record; sqlstore rewrites these rows with it in
-- every CreateCompany and UpdateCompany, in the same transaction, and the
-- foreign key removes them with the company (and the pool).
--   kind 'sub'       value = Approver.Sub (a company admin)
--   kind 'awaiting'  value = Approver.Email of an AwaitingAccount approver,
--                    as stored (the service stores addresses lower-cased)
-- Plain address approvers (emails only) never become users: not indexed.
CREATE TABLE company_approvers (
    pool_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (pool_id, name_key, kind, value),
    FOREIGN KEY (pool_id, name_key) REFERENCES companies(pool_id, name_key) ON DELETE CASCADE
);
-- The lookups' index (the primary key serves the rewrite and the cascade).
CREATE INDEX company_approvers_value ON company_approvers (pool_id, kind, value, name_key);
INSERT OR IGNORE INTO company_approvers (pool_id, name_key, kind, value)
    SELECT c.pool_id, c.name_key, 'sub', json_extract(a.value, '$.sub')
    FROM companies c, json_each(c.approvers) a
    WHERE a.type = 'object' AND json_extract(a.value, '$.sub') <> '';
INSERT OR IGNORE INTO company_approvers (pool_id, name_key, kind, value)
    SELECT c.pool_id, c.name_key, 'awaiting', json_extract(a.value, '$.email')
    FROM companies c, json_each(c.approvers) a
    WHERE a.type = 'object' AND json_extract(a.value, '$.awaiting_account') = 1 AND json_extract(a.value, '$.email') <> '';
-- The companies whose group is a given one (a company provider's group
-- mapping may not hand out another company's group: company_sso.go
-- checkGroupMapping), without reading every company of the pool.
CREATE INDEX companies_group ON companies (pool_id, group_name);
