#!/usr/bin/env bash
# endpoint-check benchmark (BENCHMARKS.md): throughput and latency fidelity against oha, suite wall time
# against the critical path and Hurl, peak memory. Everything goes to 127.0.0.1.
#
#   scripts/bench.sh                 # REPEAT=3 runs per figure, the median is shown
#   REPEAT=5 scripts/bench.sh
#   NO_INSTALL=1 scripts/bench.sh    # never install oha/hurl/time; their columns say n/a
#   EC_BIN=/path/to/endpoint-check scripts/bench.sh   # measure that build instead of building
#   THROUGHPUT_N=20000 FIDELITY_N=2000                # request counts (these are the defaults)
#   RATE=500 RATE_N=5000 STARTUP_N=20                 # the open-loop and startup rows
#
# What it does:
#   1. cargo build --release
#   2. installs what is missing (unless NO_INSTALL=1): oha (`cargo install --locked oha`),
#      hurl (`cargo install --locked hurl@8.0.1` after Debian's libcurl4-openssl-dev,
#      libxml2-dev, libclang-dev, pkg-config), /usr/bin/time (Debian `time`)
#   3. starts `endpoint-check serve --port 0 --fixtures scripts/bench/api.yaml` (routes /fast,
#      /delay20, /delay50) and, when nginx is installed, nginx (1 worker) answering /fast
#   4. measures, interleaving the tools run by run, and prints one table
#
# Every wait and loop is bounded, every tool runs under `timeout`, servers are stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/bench"
REPEAT=${REPEAT:-3}
THROUGHPUT_N=${THROUGHPUT_N:-20000}
FIDELITY_N=${FIDELITY_N:-2000}
CONC=64
CHECKS=200
export PATH="$HOME/.cargo/bin:$PATH"
# Loopback only, whatever proxy the caller has; nothing of the caller's endpoint-check settings.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy CI GITHUB_ACTIONS
for v in $(compgen -e | grep '^ENDPOINT_CHECK_' || true); do unset "$v"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ec-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else return 1; fi; }
apt_install() {
    have apt-get || return 1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$WORK/apt.log" 2>&1 || {
        as_root apt-get update -q >>"$WORK/apt.log" 2>&1 && \
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$WORK/apt.log" 2>&1
    }
}
have python3 || { say "python3 is needed to read the tools' JSON output"; exit 1; }

# ------------------------------------------------------------------------------- build, peers
if [ -n "${EC_BIN:-}" ]; then
    EC=$(cd "$(dirname "$EC_BIN")" && pwd)/$(basename "$EC_BIN") # another build, e.g. to compare
else
    say "== building endpoint-check (release)"
    (cd "$ROOT" && cargo build --release --quiet)
    EC="${CARGO_TARGET_DIR:-$ROOT/target}/release/endpoint-check"
fi

if [ -z "${NO_INSTALL:-}" ]; then
    if ! have oha; then
        say "== installing oha (cargo install --locked oha)"
        cargo install --locked oha >"$WORK/oha-install.log" 2>&1 ||
            { tail -n 5 "$WORK/oha-install.log" >&2; say "   oha install failed; its column will be n/a"; }
    fi
    if ! have hurl; then
        say "== installing hurl 8.0.1 (Debian build dependencies, then cargo install --locked hurl@8.0.1)"
        apt_install libcurl4-openssl-dev libxml2-dev libclang-dev pkg-config || say "   could not install Hurl's build dependencies"
        cargo install --locked hurl@8.0.1 >"$WORK/hurl-install.log" 2>&1 ||
            { tail -n 5 "$WORK/hurl-install.log" >&2; say "   hurl install failed; its column will be n/a"; }
    fi
    if [ ! -x /usr/bin/time ]; then
        say "== installing /usr/bin/time (Debian package time)"
        apt_install time || say "   could not install /usr/bin/time; memory will be n/a"
    fi
fi
HAVE_OHA=$(have oha && echo 1 || echo "")
HAVE_HURL=$(have hurl && echo 1 || echo "")
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || echo "")

# ------------------------------------------------------------------------------- servers
# The tool's own fixture server on a free port; its first line says which.
"$EC" serve --port 0 --fixtures "$HERE/api.yaml" >"$WORK/serve.out" 2>"$WORK/serve.err" &
PIDS+=($!)
BASE=""
for _ in $(seq 100); do
    BASE=$(sed -n 's/^Listening on \(http:[^ ]*\).*/\1/p' "$WORK/serve.out" 2>/dev/null | head -n1)
    [ -n "$BASE" ] && break
    sleep 0.05
done
[ -n "$BASE" ] || { say "the fixture server did not start:"; cat "$WORK/serve.err" >&2; exit 1; }

NGINX_BASE=""
if [ -n "$NGINX" ]; then
    NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$WORK/nginx/logs"
    sed -e "s|@PORT@|$NGINX_PORT|" -e "s|@DIR@|$WORK/nginx|g" "$HERE/nginx.conf" >"$WORK/nginx/nginx.conf"
    "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" \
        >"$WORK/nginx/out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$NGINX_PORT),0.2)" 2>/dev/null; then
            NGINX_BASE="http://127.0.0.1:$NGINX_PORT"
            break
        fi
        sleep 0.05
    done
    [ -n "$NGINX_BASE" ] || say "   nginx did not start; its rows are skipped"
fi

# ------------------------------------------------------------------------------- helpers
now_ns() { date +%s%N; }
# Milliseconds from $1 to $2 (nanoseconds).
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
# The median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'d': d}))" "$@"; }

# Runs a command; CPU_MS is then its user+sys CPU time in ms (n/a without /usr/bin/time).
cpu_of() {
    CPU_MS=n/a
    if [ -x /usr/bin/time ]; then
        local rc=0
        /usr/bin/time -f "%U %S" -o "$WORK/cpu.txt" "$@" || rc=$?
        CPU_MS=$(awk 'END { printf "%.0f", ($1 + $2) * 1000 }' "$WORK/cpu.txt")
        return $rc
    fi
    "$@"
}

# A suite of one check on PATH; endpoint-check is run with --samples on it.
one_check_suite() {
    mkdir -p "$WORK/$1"
    cat >"$WORK/$1/s.yaml" <<EOF
customer: bench
checks:
  - name: GET $2
    request: { path: $2 }
    expect: { status: 200 }
EOF
    echo "$WORK/$1/s.yaml"
}
# endpoint-check against BASE: ec BASE SUITE ARGS...
ec() {
    local base=$1 suite=$2
    shift 2
    timeout 120 "$EC" localhost --suites "$suite" --base-url "$base" --yes --color never "$@"
}

FAST_SUITE=$(one_check_suite fast /fast)
D20_SUITE=$(one_check_suite d20 /delay20)

# ------------------------------------------------------------------------------- throughput
# Whole-process time of each tool for THROUGHPUT_N requests over CONC connections.
throughput() { # base label
    local base=$1 label=$2 ec_t=() oha_t=()
    say "== throughput on $label: $THROUGHPUT_N requests, $CONC connections, $REPEAT runs each"
    ec "$base" "$FAST_SUITE" --samples 200 -j "$CONC" -q >/dev/null || true # warm-up
    local ec_c=() oha_c=()
    for _ in $(seq "$REPEAT"); do
        local t0 t1
        t0=$(now_ns)
        cpu_of timeout 120 "$EC" localhost --suites "$FAST_SUITE" --base-url "$base" --yes \
            --color never --samples "$THROUGHPUT_N" -j "$CONC" -q >"$WORK/tp.out" ||
            { say "endpoint-check failed:"; cat "$WORK/tp.out" >&2; }
        t1=$(now_ns)
        ec_t+=("$(ms "$t0" "$t1")")
        ec_c+=("$CPU_MS")
        if [ -n "$HAVE_OHA" ]; then
            t0=$(now_ns)
            cpu_of timeout 120 oha -n "$THROUGHPUT_N" -c "$CONC" --no-tui --output-format quiet \
                "$base/fast" >/dev/null 2>&1 || true
            t1=$(now_ns)
            oha_t+=("$(ms "$t0" "$t1")")
            oha_c+=("$CPU_MS")
        fi
    done
    local e o
    e=$(median "${ec_t[@]}")
    TP_EC=$(calc "$THROUGHPUT_N * 1000 / $e" 0)
    TP_EC_CPU=$(median "${ec_c[@]}")
    say "   endpoint-check runs (ms): ${ec_t[*]}; CPU user+sys (ms): ${ec_c[*]}"
    if [ -n "$HAVE_OHA" ]; then
        o=$(median "${oha_t[@]}")
        TP_OHA=$(calc "$THROUGHPUT_N * 1000 / $o" 0)
        TP_RATIO=$(calc "$o / $e" 2)
        TP_OHA_CPU=$(median "${oha_c[@]}")
        say "   oha runs (ms):            ${oha_t[*]}; CPU user+sys (ms): ${oha_c[*]}"
    else
        TP_OHA=n/a TP_RATIO=n/a TP_OHA_CPU=n/a
    fi
}

# ------------------------------------------------------------------------------- fidelity
fidelity() {
    say "== fidelity on /delay20: $FIDELITY_N requests, $CONC connections, $REPEAT runs each"
    local e50=() e99=() o50=() o99=()
    for _ in $(seq "$REPEAT"); do
        ec "$BASE" "$D20_SUITE" --samples "$FIDELITY_N" -j "$CONC" --format json >"$WORK/fid.json" || true
        e50+=("$(json "$WORK/fid.json" "round(d['suites'][0]['checks'][0]['latency_ms']['p50'], 2)")")
        e99+=("$(json "$WORK/fid.json" "round(d['suites'][0]['checks'][0]['latency_ms']['p99'], 2)")")
        if [ -n "$HAVE_OHA" ]; then
            timeout 120 oha -n "$FIDELITY_N" -c "$CONC" --no-tui --output-format json "$BASE/delay20" \
                >"$WORK/oha.json" 2>/dev/null || true
            o50+=("$(json "$WORK/oha.json" "round(d['latencyPercentiles']['p50'] * 1000, 2)")")
            o99+=("$(json "$WORK/oha.json" "round(d['latencyPercentiles']['p99'] * 1000, 2)")")
        fi
    done
    FID_EC50=$(median "${e50[@]}") FID_EC99=$(median "${e99[@]}")
    say "   endpoint-check p50/p99 (ms): ${e50[*]} / ${e99[*]}"
    if [ -n "$HAVE_OHA" ]; then
        FID_OHA50=$(median "${o50[@]}") FID_OHA99=$(median "${o99[@]}")
        FID_DIFF=$(calc "$FID_EC50 - $FID_OHA50" 2)
        say "   oha p50/p99 (ms):            ${o50[*]} / ${o99[*]}"
    else
        FID_OHA50=n/a FID_OHA99=n/a FID_DIFF=n/a
    fi
}

# ------------------------------------------------------------------------------- rate fidelity
# Open-loop: RATE_N samples at RATE/s on /delay20, against oha's -q with --latency-correction
# (latency from each request's due time, as a `rate:` check counts it).
RATE=${RATE:-500}
RATE_N=${RATE_N:-5000}
rate_fidelity() {
    say "== rate fidelity on /delay20: $RATE_N requests at $RATE/s, $CONC connections, $REPEAT runs each"
    local ea=() e99=() oa=() o99=()
    for _ in $(seq "$REPEAT"); do
        ec "$BASE" "$D20_SUITE" --samples "$RATE_N" --rate "$RATE/s" -j "$CONC" --format json \
            >"$WORK/rate.json" || true
        ea+=("$(json "$WORK/rate.json" "round(d['suites'][0]['checks'][0]['rate']['achieved_per_second'], 1)")")
        e99+=("$(json "$WORK/rate.json" "round(d['suites'][0]['checks'][0]['latency_ms']['p99'], 2)")")
        if [ -n "$HAVE_OHA" ]; then
            timeout 120 oha -n "$RATE_N" -c "$CONC" -q "$RATE" --latency-correction --no-tui \
                --output-format json "$BASE/delay20" >"$WORK/oha-rate.json" 2>/dev/null || true
            oa+=("$(json "$WORK/oha-rate.json" "round(d['summary']['requestsPerSec'], 1)")")
            o99+=("$(json "$WORK/oha-rate.json" "round(d['latencyPercentiles']['p99'] * 1000, 2)")")
        fi
    done
    RATE_EC=$(median "${ea[@]}") RATE_EC99=$(median "${e99[@]}")
    RATE_OFF=$(calc "($RATE_EC - $RATE) * 100 / $RATE" 1)
    say "   endpoint-check achieved (/s) / p99 (ms): ${ea[*]} / ${e99[*]}"
    if [ -n "$HAVE_OHA" ]; then
        RATE_OHA=$(median "${oa[@]}") RATE_OHA99=$(median "${o99[@]}")
        RATE_D99=$(calc "$RATE_EC99 - $RATE_OHA99" 2)
        say "   oha achieved (/s) / p99 (ms):            ${oa[*]} / ${o99[*]}"
    else
        RATE_OHA=n/a RATE_OHA99=n/a RATE_D99=n/a
    fi
}

# ------------------------------------------------------------------------------- startup
# One http:// check, one request, whole process, against Hurl running one request.
STARTUP_N=${STARTUP_N:-20}
startup() {
    say "== startup: one request to /fast, $STARTUP_N runs each"
    printf 'GET %s/fast\nHTTP 200\n' "$BASE" >"$WORK/one.hurl"
    local e=() h=() t0 t1
    for _ in $(seq "$STARTUP_N"); do
        t0=$(now_ns)
        ec "$BASE" "$FAST_SUITE" -q >/dev/null 2>&1 || true
        t1=$(now_ns)
        e+=("$(ms "$t0" "$t1")")
        if [ -n "$HAVE_HURL" ]; then
            t0=$(now_ns)
            timeout 30 hurl --test --no-color "$WORK/one.hurl" >/dev/null 2>&1 || true
            t1=$(now_ns)
            h+=("$(ms "$t0" "$t1")")
        fi
    done
    START_EC=$(median "${e[@]}")
    say "   endpoint-check (ms): ${e[*]}"
    if [ -n "$HAVE_HURL" ]; then
        START_HURL=$(median "${h[@]}")
        say "   hurl (ms):           ${h[*]}"
    else
        START_HURL=n/a
    fi
}

# ------------------------------------------------------------------------------- suite wall time
# CHECKS independent checks on /delay50, written FILES files (customers) of CHECKS/FILES each.
write_suites() { # dir files
    local dir=$1 files=$2 per=$((CHECKS / $2))
    mkdir -p "$dir"
    for f in $(seq "$files"); do
        {
            echo "customer: customer-$f"
            echo "checks:"
            for c in $(seq "$per"); do
                printf '  - name: check %d\n    request: { path: /delay50 }\n    expect: { status: 200 }\n' "$c"
            done
        } >"$dir/customer-$(printf %03d "$f").yaml"
    done
}
write_hurl() { # dir files
    local dir=$1 files=$2 per=$((CHECKS / $2))
    mkdir -p "$dir"
    for f in $(seq "$files"); do
        for _ in $(seq "$per"); do
            printf 'GET %s/delay50\nHTTP 200\n\n' "$BASE"
        done >"$dir/f$(printf %03d "$f").hurl"
    done
}
# Median whole-process milliseconds of a command, REPEAT runs: wall LABEL COMMAND...
wall() {
    local label=$1 t=() t0 t1
    shift
    for _ in $(seq "$REPEAT"); do
        t0=$(now_ns)
        "$@" >"$WORK/wall.out" 2>&1 || { say "   failed: $*"; tail -n 5 "$WORK/wall.out" >&2; }
        t1=$(now_ns)
        t+=("$(ms "$t0" "$t1")")
    done
    say "   $label runs (ms): ${t[*]}"
    median "${t[@]}"
}
suite_wall() {
    say "== suite wall time: $CHECKS checks on /delay50, -j $CONC, $REPEAT runs each"
    write_suites "$WORK/suites-1" 1
    write_suites "$WORK/suites-2" 2
    write_suites "$WORK/suites-8" 8
    CRIT=$(( (CHECKS + CONC - 1) / CONC * 50 ))
    SW_1=$(wall "endpoint-check, 1 file × $CHECKS" ec "$BASE" "$WORK/suites-1" -j "$CONC" -q)
    SW_2=$(wall "endpoint-check, 2 files × $((CHECKS / 2))" ec "$BASE" "$WORK/suites-2" -j "$CONC" -q)
    SW_8=$(wall "endpoint-check, 8 files × $((CHECKS / 8))" ec "$BASE" "$WORK/suites-8" -j "$CONC" -q)
    if [ -n "$HAVE_HURL" ]; then
        write_hurl "$WORK/hurl-200" 200
        write_hurl "$WORK/hurl-2" 2
        HURL_200=$(wall "hurl, $CHECKS files × 1" \
            timeout 120 hurl --test --jobs "$CONC" --no-color "$WORK"/hurl-200/*.hurl)
        HURL_2=$(wall "hurl, 2 files × $((CHECKS / 2))" \
            timeout 120 hurl --test --jobs "$CONC" --no-color "$WORK"/hurl-2/*.hurl)
    else
        HURL_200=n/a HURL_2=n/a
    fi
}

# ------------------------------------------------------------------------------- memory
peak_kib() { # samples
    /usr/bin/time -v -o "$WORK/time.txt" timeout 300 "$EC" localhost --suites "$FAST_SUITE" \
        --base-url "$BASE" --yes --color never --samples "$1" -j "$CONC" -q >/dev/null 2>&1 || true
    sed -n 's/.*Maximum resident set size (kbytes): *//p' "$WORK/time.txt"
}
memory() {
    say "== peak memory (/usr/bin/time -v), /fast, -j $CONC"
    if [ -x /usr/bin/time ]; then
        MEM_1K=$(calc "$(peak_kib 1000) / 1024")
        MEM_100K=$(calc "$(peak_kib 100000) / 1024")
    else
        MEM_1K=n/a MEM_100K=n/a
    fi
}

# ------------------------------------------------------------------------------- run
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
throughput "$BASE" "the fixture server"
TP_EC_F=$TP_EC TP_OHA_F=$TP_OHA TP_RATIO_F=$TP_RATIO TP_EC_CPU_F=$TP_EC_CPU TP_OHA_CPU_F=$TP_OHA_CPU
if [ -n "$NGINX_BASE" ]; then
    throughput "$NGINX_BASE" "nginx"
    TP_EC_N=$TP_EC TP_OHA_N=$TP_OHA TP_RATIO_N=$TP_RATIO TP_EC_CPU_N=$TP_EC_CPU TP_OHA_CPU_N=$TP_OHA_CPU
fi
fidelity
rate_fidelity
startup
suite_wall
memory
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)

ratio() { case "$1$2" in *n/a*) echo n/a ;; *) calc "$1 / $2" "${3:-2}" ;; esac; }
verdict() { awk "BEGIN { exit !($1) }" 2>/dev/null && echo met || echo MISSED; }
ok_if() { case "$1" in n/a) echo "n/a" ;; *) verdict "$2" ;; esac; }

cat <<EOF

endpoint-check benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')), load $LOAD_BEFORE → $LOAD_AFTER
endpoint-check $("$EC" --version | awk '{print $2}') ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)${EC_BIN:+, $EC_BIN}), oha $(oha --version 2>/dev/null | awk '{print $2}' || echo n/a), hurl $(hurl --version 2>/dev/null | head -n1 | awk '{print $2}' || echo n/a), medians of $REPEAT runs

| measurement | endpoint-check | peer | ratio / target | |
|---|---|---|---|---|
| throughput, fixture server, $THROUGHPUT_N req, -j/-c $CONC (req/s, whole process) | $TP_EC_F | oha $TP_OHA_F | ${TP_RATIO_F}× (≥ 1.0×) | $(ok_if "$TP_RATIO_F" "$TP_RATIO_F >= 1.0") |
| CPU user+sys of those runs (ms) | $TP_EC_CPU_F | oha $TP_OHA_CPU_F | $(ratio "$TP_EC_CPU_F" "$TP_OHA_CPU_F")× oha's (≤ 1.3×) | $(ok_if "$TP_OHA_CPU_F$TP_EC_CPU_F" "$TP_EC_CPU_F <= 1.3 * $TP_OHA_CPU_F") |
EOF
if [ -n "$NGINX_BASE" ]; then
    echo "| throughput, nginx, $THROUGHPUT_N req, -j/-c $CONC (req/s, whole process) | $TP_EC_N | oha $TP_OHA_N | ${TP_RATIO_N}× (≥ 1.0×) | $(ok_if "$TP_RATIO_N" "$TP_RATIO_N >= 1.0") |"
    echo "| CPU user+sys of those runs (ms) | $TP_EC_CPU_N | oha $TP_OHA_CPU_N | $(ratio "$TP_EC_CPU_N" "$TP_OHA_CPU_N")× oha's (≤ 1.3×) | $(ok_if "$TP_OHA_CPU_N$TP_EC_CPU_N" "$TP_EC_CPU_N <= 1.3 * $TP_OHA_CPU_N") |"
fi
cat <<EOF
| fidelity p50, /delay20, $FIDELITY_N req (ms) | $FID_EC50 | oha $FID_OHA50 | Δ $FID_DIFF ms (≤ 1 ms) | $(ok_if "$FID_DIFF" "($FID_DIFF) * ($FID_DIFF) <= 1") |
| fidelity p99, /delay20 (ms) | $FID_EC99 | oha $FID_OHA99 | | |
| rate $RATE/s, $RATE_N req on /delay20: achieved (req/s) | $RATE_EC | oha -q $RATE $RATE_OHA | ${RATE_OFF}% off $RATE/s (within 2%) | $(ok_if "$RATE_EC" "($RATE_OFF) * ($RATE_OFF) <= 4") |
| rate $RATE/s: p99 from the due time (ms) | $RATE_EC99 | oha --latency-correction $RATE_OHA99 | Δ $RATE_D99 ms (≤ 2 ms) | $(ok_if "$RATE_D99" "($RATE_D99) * ($RATE_D99) <= 4") |
| startup, one http:// request, whole process (ms) | $START_EC | hurl $START_HURL | $(ratio "$START_EC" "$START_HURL")× (< 1.0×) | $(ok_if "$START_HURL" "$START_EC < $START_HURL") |
| suite wall, $CHECKS checks × 50 ms, 1 file (ms) | $SW_1 | critical path $CRIT | $(ratio "$SW_1" "$CRIT")× (≤ 1.25×) | $(verdict "$SW_1 <= 1.25 * $CRIT") |
| suite wall, 2 files × $((CHECKS / 2)) (ms) | $SW_2 | hurl 2 files $HURL_2 | $(ratio "$SW_2" "$HURL_2" 3)× (< 0.1×) | $(ok_if "$HURL_2" "$SW_2 < 0.1 * $HURL_2") |
| suite wall, 8 files × $((CHECKS / 8)) (ms; suites run at once) | $SW_8 | critical path $CRIT | $(ratio "$SW_8" "$CRIT")× | |
| suite wall vs Hurl's best case, 200 files (ms) | $SW_1 | hurl $HURL_200 | $(ratio "$SW_1" "$HURL_200")× (≤ 1.0×) | $(ok_if "$HURL_200" "$SW_1 <= $HURL_200") |
| peak memory, 1 000 samples (MiB) | $MEM_1K | | | |
| peak memory, 100 000 samples (MiB) | $MEM_100K | | < 40 MiB | $(ok_if "$MEM_100K" "$MEM_100K < 40") |
EOF
