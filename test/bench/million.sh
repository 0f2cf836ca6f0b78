#!/usr/bin/env bash
# A million users in one pool, on SQLite or PostgreSQL (docs/benchmarks.md,
# "A million users"):
#
#   bash test/bench/million.sh sqlite|postgres [users, default 1000000] [duration per bench phase, default 10s]
#
# 1. `dev populate` fills pool "big" (timed; skipped if DATA (SQLite data
#    dir) or PGDB (PostgreSQL database) already holds it: set them to reuse
#    a populated database, which is then kept).
# 2. `dev measure` times every hot store read of "big" next to a pool of
#    1,000 users made by the same generator, in the same run.
# 3. `gatehouse serve`, then `gatehouse bench` over HTTP (sign-in, refresh,
#    Cognito refresh, GetUser, AdminGetUser, ListUsers) on "big" and on a
#    fresh empty pool, one after the other.
# 4. `users export` of "big" and `users import` of the file into a new pool
#    (timed; both draw a progress bar on a terminal). EXPORT=0 skips it (to
#    compare two binaries, GATEHOUSE_BIN, on one populated DATA or PGDB).
# The console's dashboard and user search at this size are timed over HTTP
# by `GATEHOUSE_TEST_SCALE=1 go test ./internal/web -run TestScaleConsole -v`.
# Everything runs under nice -n 10 on this machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DBKIND="${1:?sqlite or postgres}"
USERS="${2:-1000000}"
DUR="${3:-10s}"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
PORT="${PORT:-18202}"
WORK=$(mktemp -d /tmp/gh-million.XXXX)
BIN="${GATEHOUSE_BIN:-$WORK/gatehouse}"
[ -n "${GATEHOUSE_BIN:-}" ] || go build -o "$BIN" ./cmd/gatehouse
export GATEHOUSE_ADMIN_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1
export GATEHOUSE_ADMIN_SECRET_ACCESS_KEY=benchsecretbenchsecretbenchsecret1234567
export GATEHOUSE_BASE_URL=http://id.bench.test GATEHOUSE_LOG_LEVEL=warn
run() { nice -n 10 "$BIN" "$@"; }
pid=""
stop() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	pid=""
}
keep=""
cleanup() {
	stop
	if [ "$DBKIND" = postgres ] && [ -z "$keep" ]; then
		psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS gh_million" >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
ready() {
	for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0; sleep 0.1; done
	echo "server did not start" >&2
	return 1
}
case "$DBKIND" in
sqlite)
	if [ -n "${DATA:-}" ]; then keep=1; else DATA="$WORK/data"; fi
	G=(--dev --data-dir "$DATA") # global flags of every command
	F=()                         # dev populate/measure: --dev allows them
	;;
postgres)
	if [ -n "${PGDB:-}" ]; then keep=1; else
		PGDB=gh_million
		psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $PGDB" -qc "CREATE DATABASE $PGDB"
	fi
	export GATEHOUSE_DATABASE_URL="$PGURL/$PGDB?sslmode=disable"
	if [ -z "${GATEHOUSE_MASTER_KEY_FILE:-}" ]; then
		GATEHOUSE_MASTER_KEY=$("$BIN" keygen)
		export GATEHOUSE_MASTER_KEY
	fi
	G=()
	F=(--force) # a database made for measuring
	;;
*) echo "sqlite or postgres" >&2; exit 2 ;;
esac
echo "== $DBKIND, $USERS users, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if ! run "${G[@]}" pools list | awk '{print $2}' | grep -qx big; then
	/usr/bin/time -f "populate: %e s" nice -n 10 "$BIN" "${G[@]}" dev populate "${F[@]}" --pool big --users "$USERS" 2>&1 | tr '\r' '\n' | tail -3
fi
echo "== dev measure, load average $(cut -d' ' -f1-3 /proc/loadavg)"
run "${G[@]}" dev measure "${F[@]}" --pool big --iterations 300

echo "== gatehouse bench over HTTP"
if [ "$DBKIND" = sqlite ]; then
	# nice execs the binary: $! is the server itself, which stop kills.
	nice -n 10 "$BIN" serve "${G[@]}" --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
	pid=$!
	ready
	KEY=$(cat "$DATA/dev-admin-key")
else
	KEY=$(run keys create --name bench | sed -n 's/^token (shown once): //p')
	nice -n 10 "$BIN" serve --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
	pid=$!
	ready
fi
BIG=$(run "${G[@]}" pools list | awk '$2 == "big" {print $1}')
phases=signin,refresh,cognito-refresh,getuser,admingetuser,listusers
for pool in "$BIG" ""; do
	echo "-- pool ${pool:-(fresh, empty)}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	args=(--url "http://127.0.0.1:$PORT" --admin-key "$KEY" --duration "$DUR" --users 100 --phases "$phases")
	[ -z "$pool" ] || args+=(--pool "$pool")
	run bench "${args[@]}" | sed -n '/^results/,$p'
done
stop

[ "${EXPORT:-1}" != 0 ] || exit 0
echo "== export and import, load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "export: %e s, %M KiB max RSS" nice -n 10 "$BIN" "${G[@]}" users export --pool big -O "$WORK/users.jsonl"
ls -l "$WORK/users.jsonl" | awk '{print "export file: " $5 " bytes"}'
run "${G[@]}" dev populate "${F[@]}" --pool "copy-$$" --users 0 >/dev/null # the pool, with the generator's schema
/usr/bin/time -f "import: %e s, %M KiB max RSS" nice -n 10 "$BIN" "${G[@]}" users import --pool "copy-$$" -f "$WORK/users.jsonl"
