#!/usr/bin/env python3
"""One /perf/1.0.0 download between two taho daemons over loopback TCP,
repeated, with the CPU time both daemons spent (user + system, from
/proc/PID/stat) per byte beside the wall-clock rate. On a loaded machine the
rate moves with the load; CPU per byte much less, so it is the figure to
compare builds by. Optionally records a `perf` profile of both daemons.

With --js, the same download between two js-libp2p peers follows, with
the same CPU accounting, and the ratio.

Usage: perf_cpu.py TAHO_BINARY [--runs N] [--mib N] [--profile OUT.data] [--js]
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import Daemon, JsPeer, node_modules_missing  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("taho")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--profile")
    parser.add_argument("--js", action="store_true")
    args = parser.parse_args()
    nbytes = args.mib << 20
    a, b = Daemon(args.taho, "cpu-a"), Daemon(args.taho, "cpu-b")
    try:
        a.api("POST", "/api/v1/connect", {"addr": b.addr})
        a.api("POST", "/api/v1/perf", {"peer": b.peer_id, "download_bytes": 16 << 20})  # warm up
        recorder = None
        if args.profile:
            recorder = subprocess.Popen(["perf", "record", "-g", "-o", args.profile, "-p",
                                         "%d,%d" % (a.process.pid, b.process.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        rates = []
        for run in range(args.runs):
            before = cpu_seconds(a.process.pid) + cpu_seconds(b.process.pid)
            started = time.monotonic()
            mbps = a.api("POST", "/api/v1/perf", {"peer": b.peer_id, "download_bytes": nbytes})["download_mbps"]
            wall = time.monotonic() - started
            cpu = cpu_seconds(a.process.pid) + cpu_seconds(b.process.pid) - before
            rates.append(mbps)
            print("run %d: %7.0f Mbit/s   CPU of both daemons %.2f s for %.2f s wall = %.3f ns/byte" %
                  (run + 1, mbps, cpu, wall, cpu * 1e9 / nbytes), flush=True)
        if recorder:
            recorder.send_signal(2)
            recorder.wait(timeout=60)
    finally:
        a.stop()
        b.stop()
    if args.js:
        js_runs(nbytes, args.runs, max(rates))


def js_runs(nbytes, runs, taho_best):
    if node_modules_missing():
        print("js: skipped (%s)" % node_modules_missing())
        return
    js_a = JsPeer.start("--tcp", name="js-a")
    js_b = JsPeer.start("--tcp", "--inbound-threshold", "100000", name="js-b")
    try:
        js_b_addr = next(x for x in js_b.addrs if "/ws" not in x)
        js_a.expect({"cmd": "dial", "addr": js_b_addr})
        js_a.expect({"cmd": "perf", "peer": js_b.peer_id, "download_bytes": 16 << 20})
        best = 0.0
        for run in range(runs):
            before = cpu_seconds(js_a.process.pid) + cpu_seconds(js_b.process.pid)
            reply = js_a.expect({"cmd": "perf", "peer": js_b.peer_id, "download_bytes": nbytes,
                                 "timeout_ms": 600_000}, timeout=610)
            cpu = cpu_seconds(js_a.process.pid) + cpu_seconds(js_b.process.pid) - before
            mbps = nbytes * 8 / reply["download_seconds"] / 1e6
            best = max(best, mbps)
            print("js run %d: %7.0f Mbit/s   CPU of both js peers %.2f s = %.3f ns/byte" %
                  (run + 1, mbps, cpu, cpu * 1e9 / nbytes), flush=True)
        print("best taho %.0f vs best js %.0f Mbit/s: %.2fx (target 5x)" % (taho_best, best, taho_best / best))
    finally:
        js_a.stop()
        js_b.stop()


if __name__ == "__main__":
    main()
