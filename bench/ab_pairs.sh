#!/usr/bin/env bash
# Paired A/B of two accordd configurations under the same load: N pairs of short runs,
# A and B alternating (A B, B A, A B, ...), each against a fresh accordd on a fresh
# temporary data directory; prints every pair and the median of the pairs' B/A ratios.
#
# Why: this machine's speed drifts by tens of percent within a minute (bench/README.md), so
# two runs minutes apart cannot tell a 10% change from the drift; runs seconds apart, in
# both orders, and the median of their ratios can. Even so, a median within ±5% of 1.00
# over 8–10 pairs is "no difference", not a result.
#
# Usage: bench/ab_pairs.sh PAIRS "A" "B" [BUILD_DIR]
#   A, B: what differs, each as `[ENV=VALUE ...] [-- accordd flags ...]`, e.g.
#         bench/ab_pairs.sh 10 "" "-- --caller_append_max_bytes=0"
#         bench/ab_pairs.sh 10 "" "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#         ACCORDD_B=/tmp/build-old/server/accordd bench/ab_pairs.sh 10 "" ""   (two binaries)
# Env:  AB_CLIENTS (64), AB_EVENTS (1: events per append), AB_SECONDS (5, measured per run),
#       ACCORDD_A / ACCORDD_B (default BUILD_DIR/server/accordd), BENCH_TMPDIR (/tmp).
# Load: accord-bench --clients=AB_CLIENTS --projects=AB_CLIENTS --events_per_append=AB_EVENTS.
set -euo pipefail

PAIRS=${1:?usage: ab_pairs.sh PAIRS "A" "B" [BUILD_DIR]}
SPEC_A=${2-}
SPEC_B=${3-}
BUILD_DIR=${4:-build}
CLIENTS=${AB_CLIENTS:-64}
EVENTS=${AB_EVENTS:-1}
SECONDS_PER_RUN=${AB_SECONDS:-5}
ACCORDD_A=${ACCORDD_A:-$BUILD_DIR/server/accordd}
ACCORDD_B=${ACCORDD_B:-$BUILD_DIR/server/accordd}
BENCH="$BUILD_DIR/bench/accord-bench"
[[ "$PAIRS" =~ ^[0-9]+$ ]] && (( PAIRS >= 1 && PAIRS <= 50 )) || { echo "PAIRS must be 1..50" >&2; exit 2; }
for bin in "$ACCORDD_A" "$ACCORDD_B" "$BENCH"; do
  [[ -x "$bin" ]] || { echo "ab_pairs.sh: missing $bin (build it first)" >&2; exit 2; }
done

SERVER_PID=""
DATA_DIR=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ -n "$DATA_DIR" ]]; then rm -rf "$DATA_DIR"; fi
}
trap cleanup EXIT

# run BINARY SPEC: one run, in this shell (so the EXIT trap can stop its accordd); sets
# RATE to its append_events_per_s, 0 if the server did not start or the load failed.
RATE=0
run() {
  local binary=$1 spec=$2 env_part flags_part port_file
  env_part=${spec%%--*}
  flags_part=""
  [[ "$spec" == *--* ]] && flags_part=${spec#*--}
  DATA_DIR=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/accord-ab-XXXXXX")
  port_file="$DATA_DIR.port"
  # shellcheck disable=SC2086  # env_part and flags_part are word lists on purpose.
  env $env_part "$binary" --listen=127.0.0.1:0 --port_file="$port_file" --data_dir="$DATA_DIR" \
      $flags_part >/dev/null 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [[ -s "$port_file" ]] && break; sleep 0.1; done
  RATE=0
  if [[ -s "$port_file" ]]; then
    RATE=$(timeout $(( SECONDS_PER_RUN + 60 )) "$BENCH" --target="127.0.0.1:$(cat "$port_file")" \
             --clients="$CLIENTS" --projects="$CLIENTS" --events_per_append="$EVENTS" \
             --seconds="$SECONDS_PER_RUN" 2>/dev/null | awk '/^append_events_per_s:/ {print $2}' || true)
  fi
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  rm -rf "$DATA_DIR" "$port_file"
  DATA_DIR=""
  RATE=${RATE:-0}
}

echo "A: ${SPEC_A:-(default)} [$ACCORDD_A]"
echo "B: ${SPEC_B:-(default)} [$ACCORDD_B]"
echo "load: $CLIENTS clients, $EVENTS events/append, ${SECONDS_PER_RUN}s per run"
ratios=()
for i in $(seq 1 "$PAIRS"); do
  if (( i % 2 )); then run "$ACCORDD_A" "$SPEC_A"; a=$RATE; run "$ACCORDD_B" "$SPEC_B"; b=$RATE
  else run "$ACCORDD_B" "$SPEC_B"; b=$RATE; run "$ACCORDD_A" "$SPEC_A"; a=$RATE; fi
  if (( a == 0 || b == 0 )); then
    echo "ab_pairs.sh: pair $i: a run produced no figure (A $a, B $b): the server did not" \
         "start or accord-bench failed; run that configuration by hand to see why" >&2
    exit 1
  fi
  r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')
  ratios+=("$r")
  echo "pair $i: A $a  B $b  B/A $r"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1}
  END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
       printf "median B/A over %d pairs: %.3f (range %.3f-%.3f)\n", NR, m, v[1], v[NR]}'
