-- Companies, registration requests and approval links (issue 3).
-- Same tables on SQLite and PostgreSQL.

CREATE TABLE companies (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    search_key TEXT NOT NULL DEFAULT '',
    group_name TEXT NOT NULL DEFAULT '',
    approvers TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, name_key)
);
CREATE INDEX companies_search ON companies (pool_id, search_key);

CREATE TABLE company_domains (
    pool_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    name_key TEXT NOT NULL,
    PRIMARY KEY (pool_id, domain),
    FOREIGN KEY (pool_id, name_key) REFERENCES companies(pool_id, name_key) ON DELETE CASCADE
);
CREATE INDEX company_domains_company ON company_domains (pool_id, name_key);

CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    user_sub TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    company_name TEXT NOT NULL DEFAULT '',
    company_key TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX registrations_pool ON registrations (pool_id, created_at, id);
CREATE INDEX registrations_user ON registrations (pool_id, user_sub);

CREATE TABLE registration_tokens (
    hash TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    pool_id TEXT NOT NULL,
    approver TEXT NOT NULL,
    action TEXT NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX registration_tokens_request ON registration_tokens (request_id);

CREATE TABLE registration_notices (
    request_id TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (request_id, recipient, kind)
);
