-- Remembered devices (Cognito's device tracking, docs/cognito.md): one row
-- per device a user confirmed (ConfirmDevice). device_key is Cognito's
-- DeviceKey ("<region>_<uuid>"), unique in the pool; group_key the user's
-- DeviceGroupKey (the SRP "pool name" of device authentication); salt and
-- verifier (hex) the device's SRP verifier, made on the device from a
-- random password that never leaves it; status 'remembered' or
-- 'not_remembered'. The user is deleted -> the devices go.
CREATE TABLE devices (
    pool_id TEXT NOT NULL,
    device_key TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    group_key TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    salt TEXT NOT NULL,
    verifier TEXT NOT NULL,
    last_ip TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_auth_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, device_key),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX devices_user ON devices (pool_id, user_sub, device_key);

-- The device a refresh family was issued to (the access token's
-- device_key), so that forgetting a device revokes its sign-ins.
ALTER TABLE refresh_tokens ADD COLUMN device_key TEXT NOT NULL DEFAULT '';
CREATE INDEX refresh_tokens_device ON refresh_tokens (pool_id, device_key) WHERE device_key <> '';
