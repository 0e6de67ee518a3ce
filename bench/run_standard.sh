#!/usr/bin/env bash
# The standard benchmark (`make bench`): in one run on this machine, measures the two
# ceilings and accordd against them, then prints the ratios.
#
#   1. accord-echo-bench, 64 clients            -> echo_rps (gRPC ceiling, 300-byte unary;
#      its server in a child process, as accordd is a process apart from accord-bench)
#   2. accord-bench, 64 clients, 64 projects, 1 event/append  -> ratio 1 = (2) / (1), target >= 0.50
#   3. accord-rocksdb-bench, 100-Put synced batches           -> raw storage ceiling
#   4. accord-bench, 8 clients, 8 projects, 100 events/append -> ratio 2 = (4) / (3), target >= 0.75
#
# The four phases run BENCH_ROUNDS times in turn (1 2 3 4 1 2 3 4 ...): this machine is
# shared and its speed drifts by tens of percent within a minute, so each ratio is taken
# within one round (a ceiling and its accordd phase seconds apart) and the median of the
# rounds' ratios is the result.
#
# Usage: bench/run_standard.sh [BUILD_DIR]   (default: build)
# Env:   BENCH_SECONDS  measured seconds per phase (default 10; each phase adds ~1 s warm-up)
#        BENCH_ROUNDS   rounds of the four phases (default 5, 1..20)
#        BENCH_SETTLE   idle seconds before each phase, so one phase's background I/O
#                       (accordd's memtable flushes) does not land in the next (default 3)
#        BENCH_TMPDIR   parent of the temporary data directories (default $TMPDIR or /tmp)
#
# The RocksDB ceiling adds to one database over the rounds, as accordd's grows over them
# (since session 16; before, it had a fresh one each round while accordd's kept growing).
#
# accordd runs with its default durability (sync) on a fresh temporary data directory,
# listening on 127.0.0.1 with a port it picks; it is stopped (TERM, then KILL) and the
# directory removed on any exit.
set -euo pipefail

BUILD_DIR=${1:-build}
PHASE_SECONDS=${BENCH_SECONDS:-10}
if ! [[ "$PHASE_SECONDS" =~ ^[0-9]+$ ]] || (( PHASE_SECONDS < 1 || PHASE_SECONDS > 600 )); then
  echo "run_standard.sh: BENCH_SECONDS must be 1..600, got '$PHASE_SECONDS'" >&2
  exit 2
fi
# Each phase: warm-up + measured + drain; anything longer than this is a hang.
PHASE_TIMEOUT=$(( PHASE_SECONDS + 60 ))
SETTLE=${BENCH_SETTLE:-3}
ROUNDS=${BENCH_ROUNDS:-5}
[[ "$ROUNDS" =~ ^[0-9]+$ ]] && (( ROUNDS >= 1 && ROUNDS <= 20 )) || { echo "BENCH_ROUNDS must be 1..20" >&2; exit 2; }
[[ "$SETTLE" =~ ^[0-9]+$ ]] && (( SETTLE <= 60 )) || { echo "BENCH_SETTLE must be 0..60" >&2; exit 2; }

ACCORDD="$BUILD_DIR/server/accordd"
BENCH="$BUILD_DIR/bench/accord-bench"
ECHO_BENCH="$BUILD_DIR/bench/accord-echo-bench"
ROCKS_BENCH="$BUILD_DIR/bench/accord-rocksdb-bench"
for bin in "$ACCORDD" "$BENCH" "$ECHO_BENCH" "$ROCKS_BENCH"; do
  [[ -x "$bin" ]] || { echo "run_standard.sh: missing $bin (build it first)" >&2; exit 2; }
done

WORK_DIR=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/accord-bench-XXXXXX")
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # accordd drains for up to its --shutdown_grace; give it 15 s, then force.
    for _ in $(seq 1 150); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "run_standard.sh: accordd did not stop in 15 s; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -r)"
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ), ${PHASE_SECONDS}s per phase, work dir $WORK_DIR"

"$ACCORDD" --listen=127.0.0.1:0 --data_dir="$WORK_DIR/accordd-data" \
  --port_file="$WORK_DIR/port" --log_level=warn >"$WORK_DIR/accordd.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [[ -s "$WORK_DIR/port" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "accordd exited:" >&2; cat "$WORK_DIR/accordd.log" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$WORK_DIR/port" ]] || { echo "accordd wrote no port file in 10 s" >&2; exit 1; }
TARGET="127.0.0.1:$(cat "$WORK_DIR/port")"
echo "== accordd pid $SERVER_PID on $TARGET (durability sync)"

# Busy and total jiffies of the whole machine, from /proc/stat's first line.
cpu_jiffies() {
  awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
# CPU jiffies accordd has used so far (utime + stime).
server_jiffies() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# run_phase NAME KEY CMD...: runs CMD bounded in time, shows its output, and sets
# RESULT to the integer on its last line, which must read "KEY: <integer>". Also shows
# how busy the machine's CPUs and accordd were during the phase: a ceiling that did not
# use both cores, or a phase that did, explains a lot of the ratios.
RESULT=""
run_phase() {
  local name=$1 key=$2
  shift 2
  echo
  echo "== $name: $*"
  sleep "$SETTLE"
  local out="$WORK_DIR/phase.out" busy0 total0 busy1 total1 srv0 srv1
  read -r busy0 total0 < <(cpu_jiffies)
  srv0=$(server_jiffies)
  if ! timeout --kill-after=5 "$PHASE_TIMEOUT" "$@" >"$out" 2>&1; then
    cat "$out"
    echo "run_standard.sh: phase '$name' failed" >&2
    exit 1
  fi
  read -r busy1 total1 < <(cpu_jiffies)
  srv1=$(server_jiffies)
  awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) -v s=$((srv1 - srv0)) -v n="$(nproc)" \
    'BEGIN { if (t > 0) printf "(machine CPU busy %.0f%% of %d cores; accordd used %.2f cores)\n", 100 * b / t, n, n * s / t }'
  cat "$out"
  local last
  last=$(tail -n 1 "$out")
  if ! [[ "$last" =~ ^$key:\ ([0-9]+)$ ]]; then
    echo "run_standard.sh: phase '$name' did not end with '$key: <integer>'" >&2
    exit 1
  fi
  RESULT=${BASH_REMATCH[1]}
}

# 8 clients: an append passes four stages (gRPC thread: decode and validate; log writer:
# sequence, hash, rules; syncer: write and sync; completion), so 8 in flight keep each
# stage fed and let group commit merge a few requests per sync (bench/README.md: sweep).
RATIOS1=()
RATIOS2=()
SUMMARY=()
for round in $(seq 1 "$ROUNDS"); do
  echo
  echo "######## round $round of $ROUNDS"
  run_phase "echo baseline (gRPC ceiling)" echo_rps \
    "$ECHO_BENCH" --clients=64 --seconds="$PHASE_SECONDS"
  ECHO_RPS=$RESULT

  run_phase "accord single-event appends" append_events_per_s \
    "$BENCH" --target="$TARGET" --clients=64 --projects=64 --events_per_append=1 \
    --seconds="$PHASE_SECONDS"
  SINGLE=$RESULT

  run_phase "raw RocksDB baseline (storage ceiling)" rocksdb_events_per_s \
    "$ROCKS_BENCH" --events_per_batch=100 --seconds="$PHASE_SECONDS" --db="$WORK_DIR/rocksdb-baseline"
  ROCKS=$RESULT

  run_phase "accord 100-event appends" append_events_per_s \
    "$BENCH" --target="$TARGET" --clients=8 --projects=8 --events_per_append=100 \
    --seconds="$PHASE_SECONDS"
  BATCH=$RESULT

  r1=$(awk -v s="$SINGLE" -v e="$ECHO_RPS" 'BEGIN { printf "%.2f", (e > 0) ? s / e : 0 }')
  r2=$(awk -v b="$BATCH" -v r="$ROCKS" 'BEGIN { printf "%.2f", (r > 0) ? b / r : 0 }')
  RATIOS1+=("$r1")
  RATIOS2+=("$r2")
  SUMMARY+=("$(printf '%5d %10s %12s %8s %10s %12s %8s' "$round" "$ECHO_RPS" "$SINGLE" "$r1" \
    "$ROCKS" "$BATCH" "$r2")")
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
M1=$(median "${RATIOS1[@]}")
M2=$(median "${RATIOS2[@]}")

echo
echo "== summary (events/s; ratio 1 = 1-event / echo, ratio 2 = 100-event / rocksdb)"
printf '%5s %10s %12s %8s %10s %12s %8s\n' round echo_rps 1-event ratio1 rocksdb 100-event ratio2
printf '%s\n' "${SUMMARY[@]}"
awk -v r1="$M1" -v r2="$M2" -v n="$ROUNDS" 'BEGIN {
  printf "ratio single-event / echo:     %.2f median of %d rounds (target >= 0.50: %s)\n", r1, n, (r1 >= 0.50 ? "met" : "MISSED");
  printf "ratio 100-event / raw rocksdb: %.2f median of %d rounds (target >= 0.75: %s)\n", r2, n, (r2 >= 0.75 ? "met" : "MISSED");
}'
