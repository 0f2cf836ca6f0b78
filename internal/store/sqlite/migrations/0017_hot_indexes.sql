-- Issue 17: indexes the hot reads use whatever the planner knows of the
-- data (SQLite plans without statistics until ANALYZE has run).
--
-- A user's groups (token claims, GetUser): covering, so the lookup by
-- (pool_id, sub) never falls back to the primary key's pool-wide range.
CREATE INDEX group_members_user_group ON group_members (pool_id, sub, group_name);
DROP INDEX group_members_user;
-- Lookups and ListUsers filters by email, in list order (created_at, sub):
-- the oldest user with an email is the first entry of the index range.
CREATE INDEX users_pool_email_created ON users (pool_id, email, created_at, sub);
DROP INDEX users_pool_email;
