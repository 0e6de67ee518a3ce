#!/usr/bin/env bash
# Heap allocations per request in the server process: accordd under the 64-client
# single-event load, and the echo baseline's server under its 64-client load, each counted
# with a uprobe on libc's malloc (`perf probe`, then `perf stat` for 2 s) and divided by
# the RPCs the server started in the same 2 s (a second uprobe, on the gRPC C++ library's
# CallbackCallTag::ContinueRunAfterInterception, run once per incoming callback-API call).
# The uprobes slow the server down (≈40% fewer requests while counting), so dividing by
# the load's own rate over the whole run, as the first version did, undercounted by about
# that much. A count, not a time: it does not drift with this shared host's speed, so a
# change that saves allocations shows at once where its CPU time is below the noise of a
# throughput run.
#
# Needs root (or the rights to add a uprobe) and perf.
# Usage: [ACCORDD=BINARY] bench/mallocs_per_request.sh [BUILD_DIR]   (build)
set -euo pipefail

BUILD_DIR=${1:-build}
ACCORDD=${ACCORDD:-$BUILD_DIR/server/accordd}  # Another binary to count, e.g. an older build.
LIBC=$(ldd "$ACCORDD" | awk '/libc\.so/ { print $3 }')
command -v perf >/dev/null || { echo "mallocs_per_request.sh: needs perf" >&2; exit 2; }
perf probe -q -x "$LIBC" malloc 2>/dev/null || perf probe -l 2>/dev/null | grep -q 'probe_libc:malloc' \
  || { echo "mallocs_per_request.sh: cannot add a uprobe on $LIBC malloc (root?)" >&2; exit 1; }
GRPCPP=$(ldd "$ACCORDD" | awk '/libgrpc\+\+\.so/ { print $3 }')
# perf probe does not take this template's mangled name; its address does.
CALL_TAG=$(nm -D "$GRPCPP" | awk '/_ZN4grpc6Server15CallbackRequestINS_21CallbackServerContextEE15CallbackCallTag28ContinueRunAfterInterceptionEv$/ { print $1 }')
[[ -n "$CALL_TAG" ]] || { echo "mallocs_per_request.sh: no CallbackCallTag in $GRPCPP" >&2; exit 1; }
CALL_PROBE="probe_libgrpc:abs_$(printf '%x' "0x$CALL_TAG")"
perf probe -l 2>/dev/null | grep -q "$CALL_PROBE" || perf probe -q -x "$GRPCPP" -a "0x$CALL_TAG" 2>/dev/null \
  || { echo "mallocs_per_request.sh: cannot add a uprobe on $GRPCPP (root?)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/accord-mallocs-XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# count NAME LOAD_COMMAND...: allocations per request of SERVER_PID under the load, whose
# last line is "<name>: <requests per second>" (the rate without probes).
count() {
  local name=$1; shift
  "$@" > "$WORK/load.out" 2>&1 &
  local load=$!
  sleep 2.5
  perf stat -x, -e probe_libc:malloc,"$CALL_PROBE" -p "$SERVER_PID" -o "$WORK/stat.out" \
      -- sleep 2 >/dev/null 2>&1
  wait "$load"
  local rps mallocs calls
  rps=$(tail -1 "$WORK/load.out" | awk '{ print $2 }')
  mallocs=$(awk -F, '/probe_libc:malloc/ { print $1 }' "$WORK/stat.out")
  calls=$(awk -F, -v p="$CALL_PROBE" '$3 == p { print $1 }' "$WORK/stat.out")
  awk -v n="$name" -v m="$mallocs" -v c="$calls" -v r="$rps" \
    'BEGIN { printf "%-28s %8.0f requests/s  %6.1f mallocs per request (%d requests counted)\n", n, r, m / c, c }'
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

mkdir "$WORK/data"
"$ACCORDD" --listen=127.0.0.1:0 --port_file="$WORK/port" \
    --data_dir="$WORK/data" >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
count "accordd (1-event appends)" "$BUILD_DIR/bench/accord-bench" \
    --target="127.0.0.1:$(cat "$WORK/port")" --clients=64 --projects=64 --seconds=6

rm -f "$WORK/port"
"$BUILD_DIR/bench/accord-echo-bench" --serve_seconds=20 --port_file="$WORK/port" >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
count "echo server" "$BUILD_DIR/bench/accord-echo-bench" \
    --target="127.0.0.1:$(cat "$WORK/port")" --clients=64 --seconds=6
