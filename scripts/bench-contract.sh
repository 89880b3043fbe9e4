#!/usr/bin/env bash
# What contract checks cost per sample (BENCHMARKS.md, "Contract checks"): one check of N samples
# (default 1000) of GET /api/cdn/status on the bundled fixture API, run plain, with `openapi:`
# (fixtures/openapi.yaml) and with the same body schema as `expect.schema`; the client's CPU time
# (user + sys, /usr/bin/time) and wall time, medians of REPEAT runs (default 5), alternating.
#
#   scripts/bench-contract.sh                 # builds the release binary first
#   EC_BIN=target/release/endpoint-check N=10000 REPEAT=7 scripts/bench-contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
N=${N:-1000}
REPEAT=${REPEAT:-5}
if [[ -z "${EC_BIN:-}" ]]; then
  cargo build --release --locked -q
  EC_BIN=target/release/endpoint-check
fi
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$EC_BIN" serve --port 0 >"$work/serve.out" 2>/dev/null &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^Listening on ' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^Listening on //p' "$work/serve.out" | head -1)
[[ -n "$base" ]] || { echo "serve did not start" >&2; exit 1; }

openapi="$PWD/fixtures/openapi.yaml"
check="checks:
  - name: status
    samples: $N
    request: { path: /api/cdn/status }"
mkdir -p "$work/plain" "$work/openapi" "$work/schema"
printf 'customer: bench\n%s\n' "$check" >"$work/plain/s.yaml"
printf 'customer: bench\nopenapi: %s\n%s\n' "$openapi" "$check" >"$work/openapi/s.yaml"
cat >"$work/schema/s.yaml" <<EOF
customer: bench
$check
    expect:
      schema:
        type: object
        required: [status, region, edges, cacheHitRate, uptime, checkedAt]
        properties:
          status: { type: string, enum: [ok, degraded, down] }
          region: { type: string }
          edges:
            type: array
            items:
              type: object
              required: [id, region, status, latencyMs]
              properties:
                id: { type: string }
                region: { type: string }
                status: { type: string }
                latencyMs: { type: number, minimum: 0 }
          cacheHitRate: { type: number, minimum: 0, maximum: 1 }
          uptime: { type: number, minimum: 0, maximum: 100 }
          checkedAt: { type: string, format: date-time }
EOF

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for kind in plain openapi schema; do : >"$work/$kind.cpu"; : >"$work/$kind.wall"; done
for _ in $(seq "$REPEAT"); do
  for kind in plain openapi schema; do
    /usr/bin/time -f '%U %S %e' -o "$work/t" \
      "$EC_BIN" localhost --base-url "$base" -s "$work/$kind" --yes -j 32 --color never -q >/dev/null
    read -r user sys wall <"$work/t"
    awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.0f\n", (u + s) * 1000}' >>"$work/$kind.cpu"
    awk -v w="$wall" 'BEGIN {printf "%.0f\n", w * 1000}' >>"$work/$kind.wall"
  done
done
plain=$(median <"$work/plain.cpu")
printf '%-8s %10s %10s %16s\n' run "CPU ms" "wall ms" "extra CPU/sample"
for kind in plain openapi schema; do
  cpu=$(median <"$work/$kind.cpu")
  wall=$(median <"$work/$kind.wall")
  extra=$(awk -v c="$cpu" -v p="$plain" -v n="$N" 'BEGIN {printf "%.1f µs", (c - p) * 1000 / n}')
  printf '%-8s %10s %10s %16s\n' "$kind" "$cpu" "$wall" "$extra"
done
