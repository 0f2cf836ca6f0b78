-- Issue 17: ListUsers prefix filters (username ^=, email ^=, given_name ^=
-- ...) as index ranges whatever the database's collation. Under COLLATE
-- "C" text compares bytewise (UTF-8 byte order is code point order), so
-- the strings starting with a prefix are exactly the range
-- [prefix, successor(prefix)); sqlstore.match writes the range with the
-- same COLLATE, which only these indexes serve. Without them a prefix
-- matching few of a million users walked the whole pool (0.25-2.3 s).
CREATE INDEX users_pool_username_c ON users (pool_id, username COLLATE "C");
CREATE INDEX users_pool_email_c ON users (pool_id, email COLLATE "C");
CREATE INDEX user_attributes_value_c ON user_attributes (pool_id, name, value COLLATE "C");
