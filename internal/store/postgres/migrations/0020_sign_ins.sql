-- Active sign-ins (issue 14, docs/hosted-pages.md "Active sign-ins"): where
-- a refresh token family started, written in the transaction that inserts
-- the family's first token (auth insertSignIn). One row per family; the
-- live token of the family (refresh_tokens, used_at = 0, revoked_at = 0)
-- says whether the sign-in is still active and when it was last used
-- (issued_at of the newest rotation), so a refresh writes nothing here.
-- ip is the client address as httpserver decided it (trusted proxies
-- only); user_agent is the User-Agent header, capped and stripped of
-- control characters. Rows go with the user, and with their family's
-- tokens when those expire (DeleteExpiredRefreshTokens).
CREATE TABLE sign_ins (
    pool_id TEXT NOT NULL,
    family_id TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    client_id TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, family_id),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX sign_ins_expires ON sign_ins (expires_at);
