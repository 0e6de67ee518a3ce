# Sourced by the tracing scripts (sync_timeline.sh, idle_trace.sh): starts accordd on a
# fresh temporary data directory and accord-bench's 64-client single-event load against
# it, then records TRACE_SECONDS of system-wide perf events under that load.
#
# The sourcing script sets SCRIPT (its name, for messages), BUILD_DIR and TRACE_SECONDS,
# then calls:
#   start_traced_load            checks the binaries and perf, starts both processes
#                                (SERVER_PID, BENCH_PID; WORK is the temporary directory,
#                                removed with accordd stopped on exit)
#   record_trace EVENT_ARGS...   `perf record -a` of those events into $WORK/perf.data,
#                                then waits for the load to end and prints its last line
# Needs perf with tracepoint access (root, or kernel.perf_event_paranoid <= -1).

start_traced_load() {
  ACCORDD="$BUILD_DIR/server/accordd"
  BENCH="$BUILD_DIR/bench/accord-bench"
  for bin in "$ACCORDD" "$BENCH"; do
    [[ -x "$bin" ]] || { echo "$SCRIPT: missing $bin (build it first)" >&2; exit 2; }
  done
  command -v perf >/dev/null || { echo "$SCRIPT: needs perf (apt install linux-perf)" >&2; exit 2; }

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/accord-trace-XXXXXX")
  SERVER_PID=""
  trap 'stop_traced_load' EXIT
  mkdir "$WORK/data"
  "$ACCORDD" --listen=127.0.0.1:0 --port_file="$WORK/port" --data_dir="$WORK/data" >/dev/null 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/port" ]] || { echo "$SCRIPT: accordd did not start" >&2; exit 1; }
  "$BENCH" --target="127.0.0.1:$(cat "$WORK/port")" --clients=64 --projects=64 \
      --seconds=$(( TRACE_SECONDS + 4 )) > "$WORK/bench.out" 2>&1 &
  BENCH_PID=$!
  sleep 3  # Past the load's warm-up.
}

stop_traced_load() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}

record_trace() {
  if ! perf record -q -a -o "$WORK/perf.data" "$@" -- sleep "$TRACE_SECONDS" \
      >/dev/null 2>"$WORK/perf.err"; then
    echo "$SCRIPT: perf record failed (tracepoints need root or" \
         "kernel.perf_event_paranoid <= -1):" >&2
    tail -3 "$WORK/perf.err" >&2
    exit 1
  fi
  wait "$BENCH_PID" || true
  tail -1 "$WORK/bench.out"
}
