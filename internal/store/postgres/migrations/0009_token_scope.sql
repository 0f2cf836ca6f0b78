-- Tokens, issuers and scopes (docs/security.md section T).
--
-- refresh_tokens.scope: the access token scope granted at the sign-in,
-- reissued exactly by every refresh of the family (before, a refresh always
-- issued aws.cognito.signin.user.admin, widening a token the user had
-- granted only "openid email"). A row written before this migration, or by
-- a node not yet upgraded, has '' and is read as
-- aws.cognito.signin.user.admin (what those nodes issued); the families
-- issued from an authorization code still on record get that code's scope
-- below.
--
-- oauth_codes.origin_jti: the sign-in a code was exchanged for, recorded
-- with the family by the same compare-and-set, so a replayed code ends that
-- sign-in (its access and ID tokens), not only its refresh tokens.
ALTER TABLE refresh_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN origin_jti TEXT NOT NULL DEFAULT '';
UPDATE refresh_tokens SET scope = (
    SELECT c.scope FROM oauth_codes c WHERE c.family_id = refresh_tokens.family_id LIMIT 1)
WHERE family_id IN (SELECT family_id FROM oauth_codes WHERE family_id <> '' AND scope <> '');
