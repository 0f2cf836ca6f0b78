package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults applied to a DSN that does not set them, so that a database
// that is down or unreachable makes requests fail fast (503) instead of
// hanging, and a node cut off mid-transaction does not hold row locks for
// long.
const (
	// DefaultConnectTimeout bounds one connection attempt (DSN parameter
	// connect_timeout, in seconds).
	DefaultConnectTimeout = 5 * time.Second
	// DefaultIdleInTxTimeout ends a session that sits in an open
	// transaction for this long (idle_in_transaction_session_timeout):
	// Gatehouse never waits inside a transaction, so only a stuck or
	// partitioned node does.
	DefaultIdleInTxTimeout = "60s"
)

// connConfig parses dsn and fills in the defaults above.
func connConfig(dsn string) (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cc.ConnectTimeout <= 0 {
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = DefaultIdleInTxTimeout
	}
	return cc, nil
}
