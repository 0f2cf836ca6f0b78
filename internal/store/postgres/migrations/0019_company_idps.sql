-- Company identity providers (issue 18, docs/company-sso.md): a company's
-- own OpenID Connect provider (SAML later), set by its company admin.
-- name is the provider name the federation flow and linked_identities use
-- ("sso:<hex>", which no pool provider can take); config is the
-- identity.IdentityProvider as JSON, its client secret sealed.
CREATE TABLE company_idps (
    pool_id TEXT NOT NULL,
    company_key TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    require_sso INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, company_key),
    FOREIGN KEY (pool_id, company_key) REFERENCES companies(pool_id, name_key) ON DELETE CASCADE
);
CREATE UNIQUE INDEX company_idps_name ON company_idps (pool_id, name);

-- SAML assertion IDs already used (the replay cache, in the database so
-- that it holds across nodes); a row is needed until the assertion expires.
CREATE TABLE saml_assertions (
    pool_id TEXT NOT NULL,
    assertion_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, assertion_id)
);
CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_at);

-- SCIM bearer tokens, one per company, stored as SHA-256 hex.
CREATE TABLE company_scim_tokens (
    pool_id TEXT NOT NULL,
    company_key TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, company_key),
    FOREIGN KEY (pool_id, company_key) REFERENCES companies(pool_id, name_key) ON DELETE CASCADE
);
