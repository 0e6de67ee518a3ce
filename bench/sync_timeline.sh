#!/usr/bin/env bash
# Where a synced group commit's time goes: traces accordd's fdatasync calls under a
# 64-client single-event load with the kernel's block and scheduler tracepoints, and splits
# each call into the device's time and the time the syncing thread waited for a CPU after
# the device had answered.
#
# Needs `perf` with tracepoint access (root, or kernel.perf_event_paranoid <= -1) and a
# running accordd's PID, or none to start one on a fresh temporary data directory.
#
# Usage: bench/sync_timeline.sh [BUILD_DIR] [TRACE_SECONDS]   (build, 1)
# Output: percentiles (µs) over the traced fdatasync calls of
#   total      the call, entry to exit
#   device     the data write's issue to its completion, plus the cache flush's
#   cpu_wait   from the wake-up after the data write completed to running again
# and a few raw timelines (issue/complete of WS = data write, WSM = metadata write,
# FF = cache flush; wake = the syncing thread made runnable; run = it got a CPU).
set -euo pipefail

SCRIPT=sync_timeline.sh
BUILD_DIR=${1:-build}
TRACE_SECONDS=${2:-1}
source "$(dirname "$0")/traced_load.sh"
start_traced_load
record_trace -e block:block_rq_issue -e block:block_rq_complete \
    -e syscalls:sys_enter_fdatasync -e syscalls:sys_exit_fdatasync \
    -e sched:sched_wakeup -e sched:sched_switch
perf script -i "$WORK/perf.data" 2>/dev/null | awk '
  function ts(line,   m) { match(line, /[0-9]+\.[0-9]+:/); return substr(line, RSTART, RLENGTH - 1) * 1e6 }
  function pct(arr, n, p,   i, j, t, s) {  # insertion sort copy; n is small (thousands)
    for (i = 1; i <= n; i++) s[i] = arr[i]
    for (i = 2; i <= n; i++) { t = s[i]; for (j = i - 1; j >= 1 && s[j] > t; j--) s[j + 1] = s[j]; s[j + 1] = t }
    return s[int((n - 1) * p) + 1]
  }
  # Lines: "comm tid [cpu] time: event: ...". Track one fdatasync per thread at a time.
  / syscalls:sys_enter_fdatasync:/ { tid = $2; open[tid] = ts($0); ws_done[tid] = 0; woke[tid] = 0;
                                     waited[tid] = 0; dev[tid] = 0; tl[tid] = ""; next }
  / block:block_rq_issue:/ {
    for (t in open) { if (open[t] > 0) { split($0, f, "block_rq_issue: "); split(f[2], g, " ");
      issued[t, g[2]] = ts($0); tl[t] = tl[t] sprintf(" iss_%s@%.0f", g[2], ts($0) - open[t]) } }
    next }
  / block:block_rq_complete:/ {
    for (t in open) { if (open[t] > 0) { split($0, f, "block_rq_complete: "); split(f[2], g, " ");
      if ((t, g[2]) in issued) { dev[t] += ts($0) - issued[t, g[2]]; delete issued[t, g[2]] }
      if (g[2] ~ /^WS/ && !ws_done[t]) ws_done[t] = ts($0)
      tl[t] = tl[t] sprintf(" cmp_%s@%.0f", g[2], ts($0) - open[t]) } }
    next }
  / sched:sched_wakeup:/ {
    for (t in open) { if (open[t] > 0 && ws_done[t] && !woke[t] && index($0, "pid=" t " ")) {
      woke[t] = ts($0); tl[t] = tl[t] sprintf(" wake@%.0f", ts($0) - open[t]) } }
    next }
  / sched:sched_switch:/ {
    for (t in open) { if (open[t] > 0 && woke[t] && index($0, "next_pid=" t " ")) {
      waited[t] += ts($0) - woke[t]; tl[t] = tl[t] sprintf(" run@%.0f", ts($0) - open[t]); woke[t] = 0 } }
    next }
  / syscalls:sys_exit_fdatasync:/ { tid = $2; if (!(tid in open) || open[tid] == 0) next
    n++; total[n] = ts($0) - open[tid]
    if (ws_done[tid]) { m++; device[m] = dev[tid]; cpu_wait[m] = waited[tid] }
    if (n <= 8) lines[n] = sprintf("%6.0f us:%s", total[n], tl[tid])
    open[tid] = 0; next }
  END {
    if (n == 0) { print "no fdatasync traced (is perf allowed to read tracepoints?)"; exit 1 }
    printf "fdatasync calls: %d\n", n
    printf "%-9s %8s %8s %8s %8s\n", "us", "p10", "p50", "p90", "p99"
    printf "%-9s %8.0f %8.0f %8.0f %8.0f\n", "total", pct(total, n, .1), pct(total, n, .5), pct(total, n, .9), pct(total, n, .99)
    if (m == 0) { print "no data-write completion traced"; exit 1 }
    printf "%-9s %8.0f %8.0f %8.0f %8.0f   (the %d calls whose data write completion was traced)\n", "device", pct(device, m, .1), pct(device, m, .5), pct(device, m, .9), pct(device, m, .99), m
    printf "%-9s %8.0f %8.0f %8.0f %8.0f\n", "cpu_wait", pct(cpu_wait, m, .1), pct(cpu_wait, m, .5), pct(cpu_wait, m, .9), pct(cpu_wait, m, .99)
    print "first timelines (µs from entry):"
    for (i = 1; i <= n && i <= 8; i++) print lines[i]
  }'
