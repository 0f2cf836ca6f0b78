#!/usr/bin/env bash
# Throughput of 1, 2 and 3 Gatehouse nodes sharing one PostgreSQL database,
# on this machine (docs/benchmarks.md, "Scale-out on PostgreSQL").
#
#   bash test/cluster/bench.sh [duration per phase, default 8s]
#
# Needs PGURL (default: the local test server) to point at a server where
# it may create and drop the database gh_bench. For each node count N it
# starts N `gatehouse serve` processes (default argon2id cost) and runs, per
# phase, N `gatehouse bench` processes at once, one per node, with the same
# total number of client workers (6), then sums their rates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DUR="${1:-8s}"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
WORK=$(mktemp -d /tmp/gh-bench.XXXX)
BIN="$WORK/gatehouse"
go build -o "$BIN" ./cmd/gatehouse
psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS gh_bench" -qc "CREATE DATABASE gh_bench"
export GATEHOUSE_DATABASE_URL="$PGURL/gh_bench?sslmode=disable"
export GATEHOUSE_MASTER_KEY=$("$BIN" keygen)
export GATEHOUSE_BASE_URL=http://id.bench.test GATEHOUSE_LOG_LEVEL=warn
KEY=$("$BIN" keys create --name bench | sed -n 's/^token (shown once): //p')
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS gh_bench" || true
	rm -rf "$WORK"
}
trap cleanup EXIT
ports=(18101 18102 18103)
for n in 1 2 3; do
	for ((i = 0; i < n; i++)); do
		if ((${#pids[@]} <= i)); then
			"$BIN" serve --addr "127.0.0.1:${ports[$i]}" 2>"$WORK/node$i.log" &
			pids+=($!)
			for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:${ports[$i]}/readyz" >/dev/null && break; sleep 0.1; done
		fi
	done
	conc=$((6 / n))
	for phase in signup signin refresh; do
		bpids=()
		for ((i = 0; i < n; i++)); do
			"$BIN" bench --url "http://127.0.0.1:${ports[$i]}" --admin-key "$KEY" --phases "$phase" \
				--duration "$DUR" --concurrency "$conc" --users 6 >"$WORK/bench-$n-$phase-$i.txt" 2>&1 &
			bpids+=($!)
		done
		for p in "${bpids[@]}"; do wait "$p"; done
		echo "== $n node(s), $phase, load average $(cut -d' ' -f1-3 /proc/loadavg)"
		for ((i = 0; i < n; i++)); do grep -E "^ +(signup|signin|refresh) |^raw argon2id" "$WORK/bench-$n-$phase-$i.txt" || cat "$WORK/bench-$n-$phase-$i.txt"; done
	done
done
