-- OpenID Connect for every relying party (issue 15): an access or ID
-- token presented at /oauth2/revoke or as a logout id_token_hint ends its
-- sign-in, found by the origin_jti (sid) it carries; this index finds that
-- sign-in's refresh tokens (store.RevokeRefreshOrigin).
CREATE INDEX refresh_tokens_origin ON refresh_tokens (pool_id, origin_jti);
