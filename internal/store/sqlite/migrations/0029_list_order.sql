-- Issue 17: a filtered ListUsers reads one index range in the index's
-- order and stops after the page (sqlstore/userlist.go), so each filter
-- has an index whose order is the list's order:
--   cognito:user_status = v / ^= p   (pool_id, status, created_at, sub)
--   status = Enabled / Disabled      (pool_id, enabled, created_at, sub)
--   <attribute> = v / ^= p           (name, pool_id, value, sub)
-- email, username and sub already have theirs (users_pool_email_created,
-- the UNIQUE (pool_id, username) and the primary key).
CREATE INDEX IF NOT EXISTS users_pool_status ON users (pool_id, status, created_at, sub);
CREATE INDEX IF NOT EXISTS users_pool_enabled ON users (pool_id, enabled, created_at, sub);
-- The attribute index starts with name, not pool_id: it covers every
-- column, and SQLite, planning without statistics, would otherwise read a
-- user's attributes (pool_id = ? AND sub = ?) from it by the pool alone,
-- a walk of the whole pool, rather than from the primary key.
CREATE INDEX IF NOT EXISTS user_attributes_name_value ON user_attributes (name, pool_id, value, sub);
DROP INDEX IF EXISTS user_attributes_value;
-- The company type-ahead (SearchCompanies) reads its prefix as a range of
-- companies_search (pool_id, search_key) in order: nothing to add here.
