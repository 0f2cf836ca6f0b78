-- Issue 17: a filtered ListUsers reads one index range in the index's
-- order and stops after the page (sqlstore/userlist.go), so each filter
-- has an index whose order is the list's order. Filters compare text
-- under COLLATE "C" (bytewise: a prefix is one range, equality is the
-- same as under any deterministic collation), so these indexes are too:
--   email = v / ^= p                 (pool_id, email C, created_at, sub)
--   username = v / ^= p              (pool_id, username C)  (0024)
--   sub = v / ^= p                   (pool_id, sub C)
--   cognito:user_status = v / ^= p   (pool_id, status C, created_at, sub)
--   status = Enabled / Disabled      (pool_id, enabled, created_at, sub)
--   <attribute> = v / ^= p           (pool_id, name, value C, sub)
-- IF NOT EXISTS: on a large database an operator may build them first
-- with CREATE INDEX CONCURRENTLY under these names (docs/operations.md,
-- "Upgrades"); this then only drops the indexes they replace.
CREATE INDEX IF NOT EXISTS users_pool_email_c_created ON users (pool_id, email COLLATE "C", created_at, sub);
CREATE INDEX IF NOT EXISTS users_pool_sub_c ON users (pool_id, sub COLLATE "C");
CREATE INDEX IF NOT EXISTS users_pool_status_c ON users (pool_id, status COLLATE "C", created_at, sub);
CREATE INDEX IF NOT EXISTS users_pool_enabled ON users (pool_id, enabled, created_at, sub);
CREATE INDEX IF NOT EXISTS user_attributes_value_c_sub ON user_attributes (pool_id, name, value COLLATE "C", sub);
DROP INDEX IF EXISTS users_pool_email_c;
DROP INDEX IF EXISTS user_attributes_value_c;
DROP INDEX IF EXISTS user_attributes_value;
-- The company type-ahead (SearchCompanies) reads its prefix as a range of
-- this index in order, as the user lists do.
CREATE INDEX IF NOT EXISTS companies_search_c ON companies (pool_id, search_key COLLATE "C", name_key);
