#!/usr/bin/env python3
"""Time `karapace tui` on a pseudo-terminal, from outside: start to first screen, and key press
to redraw. The end of a screen is the last byte the TUI writes before it falls silent (nothing
more for QUIET seconds); the figures are that byte's arrival minus the start (fork) or the key's
write. The CPU time the TUI used for a start and `q` is given too: it varies less with
the load of the machine than wall-clock time. The start includes starting the process from Python (about 5 ms on the machine the
figures in docs/performance.md come from). Prints a markdown table. Usage: tui_latency.py KARAPACE STORE [runs] [cols] [rows]"""
import fcntl
import os
import select
import statistics
import struct
import subprocess
import sys
import termios
import time

QUIET = 0.05  # seconds of silence that end a screen


def read_screen(fd, timeout=10.0, until=b""):
    """Reads until the output holds `until` and then QUIET seconds pass without more; returns
    (time of the last byte, bytes)."""
    data = b""
    last = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = last is not None and until in data
        wait = QUIET if done else deadline - time.monotonic()
        r, _, _ = select.select([fd], [], [], wait)
        if not r:
            if done:
                break
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        last = time.monotonic()
        data += chunk
    return last, data


def start(kp, store, cols, rows):
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8")
    env.pop("NO_COLOR", None)
    t0 = time.monotonic()
    proc = subprocess.Popen([kp, "--store", store, "tui"], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    return t0, proc, master


def stop(proc, fd):
    """Quits with q; returns the CPU time (user + system) the TUI used in all."""
    os.write(fd, b"q")
    read_screen(fd, 5.0)
    os.close(fd)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def main():
    kp, store = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    cols = int(sys.argv[4]) if len(sys.argv) > 4 else 80
    rows = int(sys.argv[5]) if len(sys.argv) > 5 else 24
    first = []
    cpu = []
    for _ in range(runs):
        t0, proc, fd = start(kp, store, cols, rows)
        # ncurses sets the terminal up before the list is read; the screen is there with the
        # status line under the list.
        last, data = read_screen(fd, until=b"shows the keys")
        if last is None or b"environments" not in data:
            sys.exit("the TUI drew no list: %r" % data[-400:])
        first.append(last - t0)
        cpu.append(stop(proc, fd))

    keys = {
        "j (move down)": [b"j"],
        "k (move up)": [b"k"],
        "G / g (bottom, top)": [b"G", b"g"],
        "s (sort 1,000 by the next column)": [b"s"],
        "/, a letter, Backspace, Enter (filter 1,000)": [b"/", b"e", b"\x7f", b"\r"],
        "? / q (help and back)": [b"?", b"q"],
    }
    results = {}
    t0, proc, fd = start(kp, store, cols, rows)
    read_screen(fd, until=b"shows the keys")
    for name, seq in keys.items():
        times = []
        for _ in range(runs):
            for k in seq:
                sent = time.monotonic()
                os.write(fd, k)
                last, _ = read_screen(fd, 2.0)
                if last is not None:
                    times.append(last - sent)
        results[name] = times
    stop(proc, fd)

    def row(name, xs):
        ms = [x * 1000 for x in xs]
        return "| %s | %.1f ms | %.1f ms | %.1f ms | %d |" % (
            name, statistics.median(ms), min(ms), max(ms), len(ms))

    print("| %dx%d terminal | median | min | max | samples |" % (cols, rows))
    print("|---|---:|---:|---:|---:|")
    print(row("start to first screen", first))
    print(row("CPU time of a start and q (user + system)", cpu))
    for name, xs in results.items():
        print(row("key to redraw: " + name, xs))


if __name__ == "__main__":
    main()
