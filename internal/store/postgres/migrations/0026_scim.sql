-- SCIM 2.0 beyond the minimum (issue 18, docs/company-sso.md).
--
-- The externalId a company's IdP gave a member (RFC 7643 section 3.1):
-- one per user, unique within the company; deleting the user or the
-- company deletes it.
CREATE TABLE scim_user_ids (
    pool_id TEXT NOT NULL,
    company_key TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (pool_id, user_sub),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, company_key) REFERENCES companies(pool_id, name_key) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scim_user_ids_external ON scim_user_ids (pool_id, company_key, external_id);

-- The groups a company's IdP pushed over SCIM /Groups: each is bound to
-- the pool group (pool_group) that the company's provider group mapping
-- gives for its display name, a mapping only a pool admin can widen.
-- Membership lives in the pool group itself (user_groups); this row only
-- names the SCIM resource.
CREATE TABLE scim_groups (
    pool_id TEXT NOT NULL,
    company_key TEXT NOT NULL,
    id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_key TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    pool_group TEXT NOT NULL,
    created_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, id),
    FOREIGN KEY (pool_id, company_key) REFERENCES companies(pool_id, name_key) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scim_groups_display ON scim_groups (pool_id, company_key, display_key);
CREATE INDEX scim_groups_company ON scim_groups (pool_id, company_key, created_at);
