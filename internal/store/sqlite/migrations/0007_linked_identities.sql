-- Federated identities (internal/federation, docs/federation.md): an
-- upstream identity (provider name, subject) belongs to one user of the
-- pool; the user is deleted -> the link goes with it.
CREATE TABLE linked_identities (
    pool_id TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    provider_type TEXT NOT NULL DEFAULT '',
    issuer TEXT NOT NULL DEFAULT '',
    user_sub TEXT NOT NULL,
    created_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, provider_name, subject),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX linked_identities_user ON linked_identities (pool_id, user_sub);
