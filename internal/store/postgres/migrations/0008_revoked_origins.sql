-- Sign-ins ended by RevokeToken (internal/auth/refresh.go): every ID and
-- access token of one sign-in carries its origin_jti, and
-- AuthenticateAccessToken refuses a token whose (pool, origin_jti) is here
-- (one primary-key lookup). A row is needed only while a token of that
-- sign-in may still be unexpired: expires_at is the revocation time plus the
-- longest token lifetime (auth.RevokedOriginRetention), after which
-- DeleteExpiredRevokedOrigins prunes it. Refresh tokens get no new index: the
-- revocation reads origin_jti from the presented token, so nothing is added
-- to the refresh path.
CREATE TABLE revoked_origins (
    pool_id TEXT NOT NULL,
    origin_jti TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, origin_jti),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX revoked_origins_expires ON revoked_origins (expires_at);
CREATE INDEX revoked_origins_user ON revoked_origins (pool_id, user_sub);
