#!/usr/bin/env python3
"""Interleaved start-latency benchmark: runs each command once per round, in turn, for ROUNDS
rounds, so that load from elsewhere weighs on every row alike. Records wall time and the CPU time
(user + system) of the command and the children it waited for (wait4). Prints a markdown table.

Usage: start_bench.py ROUNDS WARMUP ANCHOR_INDEX NAME CMD [NAME CMD ...]
CMD is split on spaces (no quoting); leading VAR=value words set the command's environment.
BENCH_TTY=1 among them runs the command as a shell runs what is typed at it: the bench leads a
session whose controlling terminal is a pseudo-terminal (it restarts itself under setsid(1) for
that) and starts the command in it with stdin, stdout and stderr on that terminal. BENCH_TTY=lead
runs it as a terminal emulator or `ssh -t` starts a command with no shell: in a session of its own
that it leads, on another pseudo-terminal, which becomes its controlling terminal.
BENCH_PREPARE, when set, is a shell command run (untimed) before every timed one.
BENCH_ORDER=shuffled runs each round's commands in an order of its own (the same for the same
round number), instead of the order given: a command then does not always follow the same other
one, whose binary, files and caches it may find warm.

The CPU a command's wait4 reports misses processes it does not wait for: a sandbox's init that
outlives the run that started it, and what such an init starts for later runs. As root, with the
cgroup v1 cpuacct controller at /sys/fs/cgroup/cpuacct, each command runs in a cgroup of its
own, and the last column gives the CPU time of everything in it, per run (the mean over the
timed rounds, whoever spent it); elsewhere that column says n/a."""
import atexit
import fcntl
import os
import random
import statistics
import sys
import termios
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
terminal = None  # (master, slave) of the session's terminal, for BENCH_TTY=1 commands
if any(env.get("BENCH_TTY") == "1" for _, env in cmds):
    if os.getsid(0) != os.getpid():
        os.execvp("setsid", ["setsid", "--wait", sys.executable] + sys.argv)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    terminal = (master, slave)
lead_terminal = None  # (master, slave path) for BENCH_TTY=lead commands
if any(env.get("BENCH_TTY") == "lead" for _, env in cmds):
    master, slave = os.openpty()
    lead_terminal = (master, os.ttyname(slave))
    os.close(slave)


prepare = os.environ.get("BENCH_PREPARE")


CPUACCT = "/sys/fs/cgroup/cpuacct"
groups = []
if os.geteuid() == 0 and os.path.exists(f"{CPUACCT}/cpuacct.usage"):
    for i in range(len(cmds)):
        g = f"{CPUACCT}/karapace-bench-{os.getpid()}-{i}"
        os.makedirs(g, exist_ok=True)
        groups.append(g)


def usage(i):
    with open(f"{groups[i]}/cpuacct.usage") as f:
        return int(f.read())


def remove_groups():
    for g in groups:
        try:
            with open(f"{g}/cgroup.procs") as f:
                left = f.read().split()
            for pid in left:
                with open(f"{CPUACCT}/cgroup.procs", "w") as f:
                    f.write(pid)
            os.rmdir(g)
        except OSError:
            pass


# Also when a command fails and the run stops early.
atexit.register(remove_groups)


def join_group(path):
    with open(f"{path}/cgroup.procs", "w") as f:
        f.write("0")


def spawn(i, argv, env):
    # posix_spawn from inside the command's cgroup, which its child starts in; we leave it as
    # soon as the command has ended.
    if groups:
        join_group(groups[i])
    mode = env.get("BENCH_TTY")
    if mode not in ("1", "lead"):
        return os.posix_spawnp(argv[0], argv, env,
                               file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    env = {k: v for k, v in env.items() if k != "BENCH_TTY"}
    if mode == "lead":
        # Opened after setsid(): a session leader's first terminal becomes its controlling one.
        return os.posix_spawnp(argv[0], argv, env, setsid=True, file_actions=[
            (os.POSIX_SPAWN_CLOSE, 0),
            (os.POSIX_SPAWN_OPEN, 0, lead_terminal[1], os.O_RDWR, 0),
            (os.POSIX_SPAWN_DUP2, 0, 1),
            (os.POSIX_SPAWN_DUP2, 0, 2)])
    return os.posix_spawnp(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_DUP2, terminal[1], 0),
        (os.POSIX_SPAWN_DUP2, terminal[1], 1),
        (os.POSIX_SPAWN_DUP2, terminal[1], 2)])


def drain(fd):
    # What a command wrote to the terminal, so that the terminal's buffer never fills.
    os.set_blocking(fd, False)
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def once(i, cmd):
    argv, env = cmd
    if prepare:
        os.system(prepare)
    t0 = time.perf_counter_ns()
    pid = spawn(i, argv, env)
    _, status, ru = os.wait4(pid, 0)
    if groups:
        join_group(CPUACCT)
    wall = (time.perf_counter_ns() - t0) / 1e6
    for t in (terminal, lead_terminal):
        if t is not None:
            drain(t[0])
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed with status {os.waitstatus_to_exitcode(status)}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1e3


shuffled = os.environ.get("BENCH_ORDER") == "shuffled"


def order(n):
    indices = list(range(len(cmds)))
    if shuffled:
        random.Random(n).shuffle(indices)
    return indices


for n in range(warmup):
    for i in order(-1 - n):
        once(i, cmds[i])
wall = [[] for _ in cmds]
cpu = [[] for _ in cmds]
start = [usage(i) for i in range(len(groups))]
for n in range(rounds):
    for i in order(n):
        w, u = once(i, cmds[i])
        wall[i].append(w)
        cpu[i].append(u)
tree = [(usage(i) - start[i]) / rounds / 1e6 for i in range(len(groups))]
a_wall = statistics.median(wall[anchor])
a_cpu = statistics.median(cpu[anchor])
print(f"| command ({rounds} interleaved rounds) | median | min | vs {names[anchor].split(' ')[0]} "
      "(median) | CPU median (waited for) | CPU vs it | CPU per run, whole cgroup | vs it |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for i, n in enumerate(names):
    m, c = statistics.median(wall[i]), statistics.median(cpu[i])
    whole = f"{tree[i]:.2f} ms | {tree[i] / tree[anchor]:.2f}×" if groups else "n/a | n/a"
    print(f"| {n} | {m:.2f} ms | {min(wall[i]):.2f} ms | {m / a_wall:.2f}× | {c:.2f} ms | "
          f"{c / a_cpu:.2f}× | {whole} |")
