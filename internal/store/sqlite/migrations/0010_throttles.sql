-- Throttles shared by every node (internal/auth/throttle.go).
--
-- attempt_reservations: a credential check in flight. A sign-in reserves
-- one before it verifies a password or an SRP proof; a wrong answer turns
-- the reservation into a counted failure (users.failed_attempts), a right
-- one releases it. failed_attempts plus the live reservations never exceed
-- the pool's limit, so a burst gets at most that many guesses checked,
-- across nodes, and checks in flight are never counted as failures. A node
-- that dies mid-check leaves its reservation behind until expires_at.
CREATE TABLE attempt_reservations (
    pool_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, sub, id),
    FOREIGN KEY (pool_id, sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX attempt_reservations_expires ON attempt_reservations (expires_at);

-- throttles: fixed-window counters named by what they protect, e.g.
-- "code_fail:forgot_password:sub:<sub>" (failed code guesses of a user and
-- purpose) or "code_issue:signup:name:<hash>" (codes asked for a name that
-- matches no user, so unknown names are throttled like real ones). A
-- window starts with its first hit and ends at expires_at; the next hit
-- after that starts a new window. Expired rows are purged.
CREATE TABLE throttles (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name)
);
CREATE INDEX throttles_expires ON throttles (expires_at);
