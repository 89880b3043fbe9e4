#!/usr/bin/env bash
# Monitor memory (BENCHMARKS.md#monitor-memory): does a long-running monitor hold its RSS flat?
# A 24-hour monitor at --every 1s is 86 400 rounds; this runs ROUNDS (default 20 000) rounds as
# fast as they go and reads the monitor's VmRSS from /proc/PID/status at rounds ROUNDS/20,
# ROUNDS/2 and ROUNDS (1 000, 10 000 and 20 000). Everything goes to 127.0.0.1.
#
#   scripts/bench-monitor.sh                      # builds the release binary first
#   EC_BIN=/path/to/endpoint-check scripts/bench-monitor.sh
#   ROUNDS=50000 WINDOW=1s scripts/bench-monitor.sh
#
# What it does:
#   1. cargo build --release (unless EC_BIN is set)
#   2. starts `endpoint-check serve --port 0 --fixtures scripts/bench/api.yaml`
#   3. starts `endpoint-check localhost --base-url … -s scripts/bench/monitor-suite.yaml --yes
#      --every 1ms --rounds ROUNDS --window WINDOW --listen 127.0.0.1:0 --metrics … --json … -q`
#      (so every round also renders the report files and serves /metrics, /status and /)
#   4. polls /healthz (`ok: round N finished`) every 20 ms, scrapes /metrics, /status and / about
#      once a second, and samples VmRSS and VmHWM when N passes each mark
#   5. prints one line per mark and the growth from the first mark to the last
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-20000}
WINDOW=${WINDOW:-1s}
EVERY=${EVERY:-1ms}
LIMIT=${LIMIT:-3600}   # seconds the whole monitor may take
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy CI GITHUB_ACTIONS
for v in $(compgen -e | grep '^ENDPOINT_CHECK_' || true); do unset "$v"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ec-bench-monitor.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '%s\n' "$*" >&2; }
command -v curl >/dev/null || { say "curl is needed (Debian: apt-get install -y curl)"; exit 1; }

if [ -n "${EC_BIN:-}" ]; then
    BIN=$EC_BIN
else
    say "building the release binary..."
    (cd "$ROOT" && cargo build --release --locked --quiet)
    BIN=$ROOT/target/release/endpoint-check
fi

# Waits up to $2 seconds for "Listening on http://…" in file $1 and prints the URL.
listening_url() {
    local file=$1 deadline=$((SECONDS + $2)) url=""
    while [ -z "$url" ] && [ $SECONDS -lt "$deadline" ]; do
        url=$(grep -o 'Listening on http://[0-9.:]*' "$file" 2>/dev/null | head -n1 | sed 's/Listening on //') || true
        [ -n "$url" ] || sleep 0.05
    done
    [ -n "$url" ] || { say "no 'Listening on' line in $file:"; cat "$file" >&2; exit 1; }
    printf '%s\n' "$url"
}

"$BIN" serve --port 0 --fixtures "$ROOT/scripts/bench/api.yaml" >"$WORK/serve.out" 2>&1 &
PIDS+=($!)
TARGET=$(listening_url "$WORK/serve.out" 30)

STARTED=$SECONDS
"$BIN" localhost --base-url "$TARGET" -s "$ROOT/scripts/bench/monitor-suite.yaml" \
    --yes --every "$EVERY" --rounds "$ROUNDS" --window "$WINDOW" --listen 127.0.0.1:0 \
    --metrics "$WORK/monitor.prom" --json "$WORK/monitor.json" --color never -q \
    >"$WORK/monitor.out" 2>"$WORK/monitor.err" &
MONITOR=$!
PIDS+=("$MONITOR")
LISTEN=$(listening_url "$WORK/monitor.err" 30)

MARKS=($((ROUNDS / 20)) $((ROUNDS / 2)) "$ROUNDS")
declare -A RSS HWM AT
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MONITOR/status" 2>/dev/null || true; }
next=0
last_scrape=$SECONDS
while [ $next -lt ${#MARKS[@]} ] && kill -0 "$MONITOR" 2>/dev/null; do
    [ $((SECONDS - STARTED)) -lt "$LIMIT" ] || { say "the monitor took longer than $LIMIT s"; exit 1; }
    health=$(curl -s --max-time 2 "$LISTEN/healthz" || true)
    round=$(sed -n 's/^ok: round \([0-9]*\) finished$/\1/p' <<<"$health")
    # The last mark is the last round: the monitor may end before a poll sees it, so take the
    # figure one round early.
    if [ -n "$round" ]; then
        while [ $next -lt ${#MARKS[@]} ] && [ "$round" -ge "$(( MARKS[next] - (next == ${#MARKS[@]} - 1 ? 200 : 0) ))" ]; do
            RSS[$next]=$(rss VmRSS); HWM[$next]=$(rss VmHWM); AT[$next]=$round
            next=$((next + 1))
        done
    fi
    if [ $((SECONDS - last_scrape)) -ge 1 ]; then
        for path in /metrics /status /; do curl -s --max-time 5 -o /dev/null "$LISTEN$path" || true; done
        last_scrape=$SECONDS
    fi
    sleep 0.02
done
set +e
wait "$MONITOR"; code=$?
set -e
ELAPSED=$((SECONDS - STARTED))
last_line=$(grep -a 'round ' "$WORK/monitor.out" | tail -n1 || true)
[ $next -eq ${#MARKS[@]} ] || { say "the monitor ended (exit $code) before round ${MARKS[next]}:"; tail -n 20 "$WORK/monitor.err" >&2; exit 1; }

printf 'endpoint-check monitor: %s rounds of %s, --every %s --window %s, %s s, exit %s\n' \
    "$ROUNDS" "scripts/bench/monitor-suite.yaml" "$EVERY" "$WINDOW" "$ELAPSED" "$code"
printf '%-10s %-12s %-12s\n' "round" "VmRSS (KiB)" "VmHWM (KiB)"
for i in "${!MARKS[@]}"; do printf '%-10s %-12s %-12s\n' "${AT[$i]}" "${RSS[$i]}" "${HWM[$i]}"; done
first=${RSS[0]}; final=${RSS[$(( ${#MARKS[@]} - 1 ))]}
printf 'growth from round %s to round %s: %s KiB (%s%%)\n' "${AT[0]}" "${AT[$(( ${#MARKS[@]} - 1 ))]}" \
    "$((final - first))" "$(awk -v a="$first" -v b="$final" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')"
printf 'last round line: %s\n' "$last_line"
