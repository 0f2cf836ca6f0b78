-- SRP (Cognito's USER_SRP_AUTH): each user's salt and verifier, set with
-- the password; '' when none is kept (pool with SRP off, imported hash).
ALTER TABLE users ADD COLUMN srp_salt TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN srp_verifier TEXT NOT NULL DEFAULT '';
-- App client secrets sealed with the master key, so Cognito's SECRET_HASH
-- can be verified; '' for public clients and older secrets.
ALTER TABLE clients ADD COLUMN secret_sealed TEXT NOT NULL DEFAULT '';
