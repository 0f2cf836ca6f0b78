#!/usr/bin/env bash
# How the CPU of one `gatehouse bench` phase divides between the server and
# the load generator on this machine (docs/benchmarks.md, "Round 4").
#
#   bash test/bench/cpusplit.sh PHASE [ALG] [DURATION]
#   e.g. bash test/bench/cpusplit.sh cognito-refresh RS256 10s
#
# It starts a `gatehouse serve --dev` in a fresh data dir on PORT (default
# 18302), runs the phase with CONCURRENCY workers (default 8), and prints
# once a second the CPU ticks (1/100 s) each process used in that second,
# then the bench report. During the phase server+generator ticks near
# 100 × CPUs mean the machine is saturated; fewer mean requests wait (on a
# commit, a lock). GATEHOUSE_BIN: a binary built elsewhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PHASE=${1:?phase}
ALG=${2:-ES256}
DUR=${3:-10s}
PORT="${PORT:-18302}"
WORK=$(mktemp -d /tmp/gh-cpusplit.XXXX)
BIN="${GATEHOUSE_BIN:-$WORK/gatehouse}"
[ -n "${GATEHOUSE_BIN:-}" ] || go build -o "$BIN" ./cmd/gatehouse
export GATEHOUSE_ADMIN_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1
export GATEHOUSE_ADMIN_SECRET_ACCESS_KEY=benchsecretbenchsecretbenchsecret1234567
export GATEHOUSE_BASE_URL=http://id.bench.test GATEHOUSE_LOG_LEVEL=warn
if curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
	echo "port $PORT is in use: set PORT" >&2
	exit 1
fi
"$BIN" serve --dev --data-dir "$WORK/data" --addr "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SP=$!
BP=""
trap 'kill $SP $BP 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
"$BIN" bench --url "http://127.0.0.1:$PORT" --admin-key "$(cat "$WORK/data/dev-admin-key")" --duration "$DUR" \
	--users 100 --concurrency "${CONCURRENCY:-8}" --phases "$PHASE" --signing-alg "$ALG" >"$WORK/bench.out" 2>&1 &
BP=$!
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
ps=$(ticks $SP)
pb=$(ticks $BP)
sec=0
while kill -0 $BP 2>/dev/null; do
	sleep 1
	sec=$((sec + 1))
	s=$(ticks $SP)
	b=$(ticks $BP)
	kill -0 $BP 2>/dev/null || break
	echo "t=${sec}s server=$((s - ps)) generator=$((b - pb)) ticks, load $(cut -d' ' -f1 /proc/loadavg)"
	ps=$s
	pb=$b
done
wait $BP
BP=""
sed -n '/^results/,$p' "$WORK/bench.out"
