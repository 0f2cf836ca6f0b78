-- Issue 17: ListUsers prefix filters as index ranges. SQLite compares TEXT
-- bytewise (BINARY), so the existing indexes on users (pool_id, username),
-- users (pool_id, email, ...) and user_attributes (pool_id, name, value)
-- already serve the range [prefix, prefix || x'ff'); PostgreSQL needs its
-- own (COLLATE "C") indexes, added by its migration 0024. Nothing to do
-- here: the number is kept in step with PostgreSQL's.
SELECT 1;
