#!/usr/bin/env bash
# The hash-free hot paths through the Cognito API on SQLite and on
# PostgreSQL, in one command (docs/benchmarks.md, "Hash-free requests").
#
#   bash test/bench/hotpath.sh [duration per phase, default 10s]
#
# PROFILE=dir has each server write a CPU profile of its whole run there
# (sqlite.cpu, postgres.cpu; go tool pprof -top -cum dir/sqlite.cpu).
# CONCURRENCY (default 8, the issue's "8 clients") sets the load
# generator's workers. With the default 10 s it takes about 2 min 30 s
# (two databases, six phases each, the raw-rate measurements and the
# setup of each pool).
#
# For each database it starts one `gatehouse serve` (SQLite: --dev in a
# fresh data dir; PostgreSQL: a fresh database gh_hotpath_<pid> on PGURL, default
# the local test server, with a generated master key and an admin key made
# by `gatehouse keys create` — --dev stays SQLite-only, so a dev server can
# never be pointed at a real database), then runs `gatehouse bench` with the
# Cognito phases on an ES256 pool, and the Cognito refresh on an RS256 pool.
# Each report ends with this machine's raw ES256/RS256 rates measured in
# the same run and the ratios to them. Everything runs on this machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DUR="${1:-10s}"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
PORT="${PORT:-18201}"
CONCURRENCY="${CONCURRENCY:-8}"
PROFILE="${PROFILE:-}" # a directory: each server writes a CPU profile there (serve --cpuprofile)
DBNAME="gh_hotpath_$$" # one database per run: two runs at once must not drop each other's
START=$(date +%s)
WORK=$(mktemp -d /tmp/gh-hotpath.XXXX)
BIN="${GATEHOUSE_BIN:-$WORK/gatehouse}" # GATEHOUSE_BIN: a binary built elsewhere (e.g. an older commit)
[ -n "${GATEHOUSE_BIN:-}" ] || go build -o "$BIN" ./cmd/gatehouse
RS256="${RS256:-1}"                      # RS256=0: no RS256 pool (binaries before bench --signing-alg)
export GATEHOUSE_ADMIN_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1
export GATEHOUSE_ADMIN_SECRET_ACCESS_KEY=benchsecretbenchsecretbenchsecret1234567
export GATEHOUSE_BASE_URL=http://id.bench.test GATEHOUSE_LOG_LEVEL=warn
pid=""
stop() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	pid=""
}
cleanup() {
	stop
	psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
# Another server on PORT (another run) would answer for ours: refuse.
if curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
	echo "port $PORT is in use: set PORT" >&2
	exit 1
fi
ready() {
	for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0; sleep 0.1; done
	echo "server did not start" >&2
	return 1
}
bench() { # database, admin key, extra args
	local db=$1 key=$2
	shift 2
	echo "== $db: gatehouse bench $*, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	"$BIN" bench --url "http://127.0.0.1:$PORT" --admin-key "$key" --duration "$DUR" --users 100 --concurrency "$CONCURRENCY" "$@" |
		sed -n '/^results/,$p'
}
# cognito-refresh: InitiateAuth REFRESH_TOKEN_AUTH (rotation) on a client
# that rotates; cognito-refresh-static: the same call on a client with
# rotation off (Cognito's DISABLED), which writes nothing.
# STATIC=0: without the static phase (binaries before it existed).
phases=cognito-refresh,getuser,admingetuser,listusers
[ "${STATIC:-1}" = 0 ] || phases=cognito-refresh,cognito-refresh-static,getuser,admingetuser,listusers
rs_phases=cognito-refresh
[ "${STATIC:-1}" = 0 ] || rs_phases=cognito-refresh,cognito-refresh-static

# SQLite (--dev).
prof() { [ -z "$PROFILE" ] || echo "--cpuprofile=$PROFILE/$1.cpu"; }
# shellcheck disable=SC2046 # prof prints one word or nothing
"$BIN" serve --dev --data-dir "$WORK/data" --addr "127.0.0.1:$PORT" $(prof sqlite) >"$WORK/sqlite.log" 2>&1 &
pid=$!
ready
KEY=$(cat "$WORK/data/dev-admin-key")
bench sqlite "$KEY" --phases "$phases"
[ "$RS256" = 0 ] || bench sqlite "$KEY" --phases "$rs_phases" --signing-alg RS256
stop

# PostgreSQL.
psql "$PGURL/postgres" -qc "CREATE DATABASE $DBNAME"
export GATEHOUSE_DATABASE_URL="$PGURL/$DBNAME?sslmode=disable"
GATEHOUSE_MASTER_KEY=$("$BIN" keygen)
export GATEHOUSE_MASTER_KEY
KEY=$("$BIN" keys create --name bench | sed -n 's/^token (shown once): //p')
# shellcheck disable=SC2046
"$BIN" serve --addr "127.0.0.1:$PORT" $(prof postgres) >"$WORK/postgres.log" 2>&1 &
pid=$!
ready
bench postgres "$KEY" --phases "$phases"
[ "$RS256" = 0 ] || bench postgres "$KEY" --phases "$rs_phases" --signing-alg RS256
stop
echo "== hotpath.sh took $(($(date +%s) - START)) s (phases of $DUR, $CONCURRENCY workers)"
