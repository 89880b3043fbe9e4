#!/usr/bin/env bash
# Instructions per request (BENCHMARKS.md, "What bounds throughput"): callgrind's total for N
# requests minus its total for 1 (startup), divided by N - 1, for endpoint-check and oha against
# the same loopback server. Counts instructions, not seconds, so it repeats whatever the load.
#
#   scripts/callgrind.sh URL                # e.g. http://127.0.0.1:8080/fast (nginx or `serve`)
#   N=4000 EC_BIN=target/release/endpoint-check scripts/callgrind.sh URL
set -euo pipefail
URL=${1:?usage: scripts/callgrind.sh URL}
N=${N:-4000}
CONC=${CONC:-64}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EC=${EC_BIN:-$ROOT/target/release/endpoint-check}
export PATH="$HOME/.cargo/bin:$PATH" NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install -y valgrind" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ec-callgrind.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
base=${URL%/*} path=/${URL##*/}
printf 'customer: bench\nchecks:\n  - name: GET %s\n    request: { path: %s }\n' "$path" "$path" >"$WORK/s.yaml"

total() { # out-file command...
    local out=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 || true
    sed -n 's/^summary: *//p' "$out" | head -n1
}
per_request() { # label many-command one-command (as strings)
    local many one
    many=$(eval total "$WORK/many.out" "$2")
    one=$(eval total "$WORK/one.out" "$3")
    awk -v a="$many" -v b="$one" -v n="$N" -v l="$1" \
        'BEGIN { printf "%-16s %8.1f k instructions per request (%d requests: %d, 1 request: %d)\n", l, (a - b) / (n - 1) / 1000, n, a, b }'
}
ec_args="localhost --suites $WORK/s.yaml --base-url $base --yes --color never -j $CONC -q"
per_request endpoint-check "$EC $ec_args --samples $N" "$EC $ec_args --samples 1"
if command -v oha >/dev/null; then
    per_request oha "oha -n $N -c $CONC --no-tui --output-format quiet $URL" \
        "oha -n 1 -c 1 --no-tui --output-format quiet $URL"
else
    echo "oha: not installed (cargo install --locked oha)"
fi
