#!/usr/bin/env python3
"""Interleaved start-latency benchmark: runs each command once per round, in turn, for ROUNDS
rounds, so that load from elsewhere weighs on every row alike. Records wall time and the CPU time
(user + system) of the command and the children it waited for (wait4). Prints a markdown table.

Usage: start_bench.py ROUNDS WARMUP ANCHOR_INDEX NAME CMD [NAME CMD ...]
CMD is split on spaces (no quoting); leading VAR=value words set the command's environment.
BENCH_PREPARE, when set, is a shell command run (untimed) before every timed one."""
import os
import statistics
import sys
import time

rounds, warmup, anchor = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pairs = sys.argv[4:]
names = pairs[0::2]
cmds = []
for c in pairs[1::2]:
    words, env = c.split(), dict(os.environ)
    while words and "=" in words[0]:
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    cmds.append((words, env))
devnull = os.open(os.devnull, os.O_RDWR)


prepare = os.environ.get("BENCH_PREPARE")


def once(cmd):
    argv, env = cmd
    if prepare:
        os.system(prepare)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, env,
                          file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed with status {os.waitstatus_to_exitcode(status)}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1e3


for _ in range(warmup):
    for c in cmds:
        once(c)
wall = [[] for _ in cmds]
cpu = [[] for _ in cmds]
for _ in range(rounds):
    for i, c in enumerate(cmds):
        w, u = once(c)
        wall[i].append(w)
        cpu[i].append(u)
a_wall = statistics.median(wall[anchor])
a_cpu = statistics.median(cpu[anchor])
print(f"| command ({rounds} interleaved rounds) | median | min | vs {names[anchor].split(' ')[0]} "
      "(median) | CPU median | CPU vs it |")
print("|---|---:|---:|---:|---:|---:|")
for i, n in enumerate(names):
    m, c = statistics.median(wall[i]), statistics.median(cpu[i])
    print(f"| {n} | {m:.2f} ms | {min(wall[i]):.2f} ms | {m / a_wall:.2f}× | {c:.2f} ms | "
          f"{c / a_cpu:.2f}× |")
