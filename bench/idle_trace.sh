#!/usr/bin/env bash
# Why a CPU sits idle under the single-event load: traces the scheduler (`perf record -a`
# of sched_switch / sched_wakeup and accordd's fdatasync calls) for TRACE_SECONDS under
# accord-bench's 64-client single-event load, and splits the idle time of the machine's
# CPUs by what else was going on at the time:
#   runnable-elsewhere   a thread was runnable on another CPU's queue, not running (the
#                        idle CPU did not pull it: the scheduler keeps a thread that ran
#                        within sched_migration_cost, 0.5 ms by default, where it is)
#   nothing-runnable     every thread was blocked (on the disk, the network, a lock)
# and names the threads found waiting elsewhere, with who woke them.
#
# Needs `perf` with tracepoint access (root, or kernel.perf_event_paranoid <= -1) and
# python3. Usage: bench/idle_trace.sh [BUILD_DIR] [TRACE_SECONDS]   (build, 1)
set -euo pipefail

SCRIPT=idle_trace.sh
BUILD_DIR=${1:-build}
TRACE_SECONDS=${2:-1}
command -v python3 >/dev/null || { echo "idle_trace.sh: needs python3" >&2; exit 2; }
source "$(dirname "$0")/traced_load.sh"
start_traced_load
# Which threads are whose, taken while both run.
(sleep 1; ls /proc/"$SERVER_PID"/task > "$WORK/server_tids"; ls /proc/"$BENCH_PID"/task > "$WORK/bench_tids") &
TIDS_PID=$!
record_trace -e sched:sched_switch -e sched:sched_wakeup \
    -e syscalls:sys_enter_fdatasync -e syscalls:sys_exit_fdatasync
wait "$TIDS_PID"
perf script -i "$WORK/perf.data" -F comm,tid,cpu,time,event,trace 2>/dev/null > "$WORK/trace.txt"
python3 - "$WORK/trace.txt" "$WORK/server_tids" "$WORK/bench_tids" <<'PY'
import collections, re, sys
owner = {}
for path, name in ((sys.argv[2], 'accordd'), (sys.argv[3], 'accord-bench')):
    for tid in open(path).read().split():
        owner[tid] = name
def who(comm, tid):
    return '%s %s/%s' % (owner.get(tid, ''), comm, tid)
line_re = re.compile(r'\s*(.*?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)')
switch_re = re.compile(r'prev_comm=(.*?) prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)')
wakeup_re = re.compile(r'comm=(.*?) pid=(\d+) .*target_cpu=(\d+)')
runnable = {}   # tid -> (cpu, comm, how it became runnable)
running = {}    # cpu -> tid
idle_since, waiting = {}, {}
in_sync = set()
by_kind, by_thread = collections.Counter(), collections.Counter()
first = last = None
cpus = set()
for line in open(sys.argv[1]):
    m = line_re.match(line)
    if not m:
        continue
    comm, tid, cpu, t, event, rest = m.groups()
    cpu, t = int(cpu), float(t) * 1e6
    cpus.add(cpu)
    first = t if first is None else first
    last = t
    if event == 'syscalls:sys_enter_fdatasync':
        in_sync.add(tid)
    elif event == 'syscalls:sys_exit_fdatasync':
        in_sync.discard(tid)
    elif event == 'sched:sched_wakeup':
        w = wakeup_re.search(rest)
        if w and w.group(2) not in running.values():
            how = 'woken by %s %s' % (who(comm, tid), 'on its own CPU' if int(w.group(3)) == cpu else 'from another CPU')
            runnable[w.group(2)] = (int(w.group(3)), w.group(1), how)
    elif event == 'sched:sched_switch':
        s = switch_re.search(rest)
        if not s:
            continue
        prev_comm, prev_tid, prev_state, next_comm, next_tid = s.groups()
        running[cpu] = next_tid
        if prev_tid == '0' and cpu in idle_since:
            d = t - idle_since.pop(cpu)
            kind, threads = waiting.pop(cpu)
            by_kind[kind] += d
            for k in threads:
                by_thread[k] += d
        runnable.pop(next_tid, None)
        runnable.pop(prev_tid, None)
        if prev_state.startswith('R'):
            runnable[prev_tid] = (cpu, prev_comm, 'preempted')
        if next_tid == '0':
            idle_since[cpu] = t
            elsewhere = {(who(v[1], k), v[2]) for k, v in runnable.items() if v[0] != cpu}
            kind = ('runnable-elsewhere' if elsewhere else 'nothing-runnable') + \
                   (', during an fdatasync' if in_sync else '')
            waiting[cpu] = (kind, elsewhere)
span = (last - first) * len(cpus)
print('traced %.2f s on %d CPUs; idle %.1f%% of CPU time' %
      ((last - first) / 1e6, len(cpus), 100 * sum(by_kind.values()) / span))
for kind, us in by_kind.most_common():
    print('  %-50s %5.1f%%' % (kind, 100 * us / span))
print('threads waiting elsewhere while a CPU idled (share of CPU time):')
for (thread, how), us in by_thread.most_common(8):
    print('  %-36s %-56s %5.1f%%' % (thread, how, 100 * us / span))
PY
