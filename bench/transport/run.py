#!/usr/bin/env python3
"""Whole-stack transport benchmarks, each beside its reference from this run:

  perf     one /perf/1.0.0 download between two taho daemons over loopback
           TCP (Noise + Yamux) vs iperf3 TCP on loopback (target >= 0.25x),
           and the same transfer between two js-libp2p 3.x peers (target >= 5x js)
  dials    connection setups per second (TCP + Noise XX + Yamux), taho->taho
           through the API (connect + disconnect) vs js->js (dial + close)
  idle     RSS per idle, fully upgraded inbound connection of a taho daemon

Usage: run.py BUILD_DIR   (TAHO_BENCH_PERF_MIB, default 1024)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop", "js"))
from js_peer import JsPeer, node_modules_missing  # noqa: E402

PERF_BYTES = int(os.environ.get("TAHO_BENCH_PERF_MIB", "1024")) << 20
DIALS = int(os.environ.get("TAHO_BENCH_DIALS", "200"))
IDLE_CONNECTIONS = int(os.environ.get("TAHO_BENCH_IDLE_CONNECTIONS", "1000"))


def find_taho(build):
    for candidate in (os.path.join(build, "bin", "taho"), os.path.join(build, "src", "cli", "taho")):
        if os.access(candidate, os.X_OK):
            return candidate
    for root, _, files in os.walk(build):
        if "taho" in files and os.access(os.path.join(root, "taho"), os.X_OK):
            return os.path.join(root, "taho")
    raise SystemExit("no taho binary under %s" % build)


class Daemon:
    """A taho daemon in a throwaway home, driven through its API."""

    def __init__(self, taho, name, *extra, env_extra=None):
        self.home = tempfile.mkdtemp(prefix="taho-bench-%s-" % name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        env["TAHO_HOME"] = self.home
        env.update(env_extra or {})
        self.process = subprocess.Popen([taho, "daemon", "--api-listen", "127.0.0.1:0", "--listen",
                                         "/ip4/127.0.0.1/tcp/0", "--json", *extra], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        ready = json.loads(self.process.stdout.readline())
        self.peer_id = ready["peer_id"]
        with open(os.path.join(self.home, "api.addr")) as f:
            self.api_addr = f.read().strip()
        with open(os.path.join(self.home, "api.token")) as f:
            self.token = f.read().strip()
        self.addr = self.api("GET", "/api/v1/id")["addrs"][0]

    def api(self, method, path, body=None, timeout=300):
        request = urllib.request.Request("http://%s%s" % (self.api_addr, path), method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise RuntimeError("%s %s: %s" % (method, path, error.read().decode())) from None

    def rss_kib(self):
        with open("/proc/%d/status" % self.process.pid) as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.home, ignore_errors=True)


def free_port():
    """A loopback port nobody listens on now, so concurrent runs do not collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def iperf3(client_args):
    """One iperf3 run on loopback against a one-off server: its JSON report."""
    port = str(free_port())
    server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", port], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            result = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", port, "-J", *client_args],
                                    capture_output=True, text=True, timeout=300)
            report = json.loads(result.stdout or "{}")
            # iperf3 -J exits 0 even when it fails; the report says so.
            error = report.get("error") or (result.stderr if result.returncode else "")
            if not error:
                return report
            if "connect" not in error:
                raise RuntimeError("iperf3 failed: " + error)
            time.sleep(0.1)  # the server is not listening yet
        raise RuntimeError("iperf3: the server never listened")
    finally:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a lost final datagram leaves a UDP server waiting
            server.kill()
            server.wait()


def iperf3_mbps(nbytes):
    return iperf3(["-n", str(nbytes)])["end"]["sum_received"]["bits_per_second"] / 1e6


def iperf3_udp_mbps(nbytes, rate):
    """iperf3 -u at `rate` on loopback: (received Mbit/s, lost percent)."""
    summary = iperf3(["-u", "-b", rate, "-l", "1400", "-w", "8M", "-n", str(nbytes)]).get("end", {}).get("sum")
    if summary is None:  # the run ended without a receiver report
        return 0.0, 100.0
    return summary["bits_per_second"] * (1 - summary["lost_percent"] / 100) / 1e6, summary["lost_percent"]


def ratio_line(name, ours, theirs, unit, target=None):
    ratio = ours / theirs if theirs else float("nan")
    goal = "" if target is None else "  (target >= %gx: %s)" % (target, "met" if ratio >= target else "NOT met")
    print("%-44s %10.1f %s   vs %10.1f %s   ratio %.2fx%s" % (name, ours, unit, theirs, unit, ratio, goal))
    return ratio


def bench_perf(a, b, js_a, js_b):
    a.api("POST", "/api/v1/connect", {"addr": b.addr})
    a.api("POST", "/api/v1/perf", {"peer": b.peer_id, "download_bytes": 16 << 20})  # warm up
    taho = a.api("POST", "/api/v1/perf", {"peer": b.peer_id, "download_bytes": PERF_BYTES})["download_mbps"]
    iperf = iperf3_mbps(PERF_BYTES)
    mib = PERF_BYTES >> 20
    ratio_line("perf %d MiB taho->taho TCP vs iperf3" % mib, taho, iperf, "Mbit/s", 0.25)
    if js_a is None:
        print("perf js->js: skipped (%s)" % node_modules_missing())
        return
    js_b_addr = next(x for x in js_b.addrs if "/ws" not in x)
    js_a.expect({"cmd": "dial", "addr": js_b_addr})
    js_a.expect({"cmd": "perf", "peer": js_b.peer_id, "download_bytes": 16 << 20})
    reply = js_a.expect({"cmd": "perf", "peer": js_b.peer_id, "download_bytes": PERF_BYTES, "timeout_ms": 600_000},
                        timeout=610)
    js = PERF_BYTES * 8 / reply["download_seconds"] / 1e6
    ratio_line("perf %d MiB taho->taho vs js->js TCP" % mib, taho, js, "Mbit/s", 5)


def dials_per_second(a, b, addr, count):
    """Sequential connect + disconnect through a's API; each connect dials anew."""
    a.api("POST", "/api/v1/disconnect", {"peer": b.peer_id})
    time.sleep(0.2)
    started = time.monotonic()
    for _ in range(count):
        a.api("POST", "/api/v1/connect", {"addr": addr})
        a.api("POST", "/api/v1/disconnect", {"peer": b.peer_id})
        while any(p["peer_id"] == b.peer_id for p in a.api("GET", "/api/v1/peers")["peers"]):
            time.sleep(0.001)
    return count / (time.monotonic() - started)


def bench_quic(taho):
    """QUIC (ngtcp2 + TLS 1.3, streams muxed by QUIC) between two daemons
    listening on QUIC only, vs iperf3 -u and vs our TCP path from this run."""
    listen = ("--listen", "/ip4/127.0.0.1/udp/0/quic-v1")
    a, b = Daemon(taho, "quic-a", *listen), Daemon(taho, "quic-b", *listen)
    try:
        quic_addr = next(x for x in b.api("GET", "/api/v1/id")["addrs"] if "/quic-v1/" in x)
        a.api("POST", "/api/v1/connect", {"addr": quic_addr})
        a.api("POST", "/api/v1/perf", {"peer": b.peer_id, "download_bytes": 16 << 20})  # warm up
        quic = a.api("POST", "/api/v1/perf", {"peer": b.peer_id, "download_bytes": PERF_BYTES})["download_mbps"]
        # iperf3 -u's reference: the highest rate that loses at most 1 %.
        udp, udp_rate = 0.0, None
        for rate_mbit in (250, 500, 1000, 2000, 4000, 8000):
            received, lost = iperf3_udp_mbps(min(PERF_BYTES, 256 << 20), "%dM" % rate_mbit)
            if lost <= 1.0 and received > udp:
                udp, udp_rate = received, rate_mbit
        mib = PERF_BYTES >> 20
        ratio_line("perf %d MiB taho->taho QUIC vs iperf3 -u" % mib, quic, udp, "Mbit/s", 0.7)
        print("  (iperf3 -u, 8 MiB socket buffers, at the best rate tried that lost <= 1 %%: %s Mbit/s)" % udp_rate)
        quic_dials = dials_per_second(a, b, quic_addr, DIALS)  # QUIC dials need the peer id
        print("connections/s taho->taho over QUIC (TLS 1.3 handshake): %.0f" % quic_dials, flush=True)
        return quic
    finally:
        a.stop()
        b.stop()


def bench_dials(a, b, js_a, js_b):
    taho = dials_per_second(a, b, b.addr.split("/p2p/")[0], DIALS)
    print("connections/s taho->taho: %.0f" % taho, flush=True)
    if js_a is None:
        print("dials: taho %.0f/s (js skipped)" % taho)
        return
    js_b_addr = next(x for x in js_b.addrs if "/ws" not in x)
    js_a.expect({"cmd": "hangup", "peer": js_b.peer_id})
    reply = js_a.expect({"cmd": "dials", "addr": js_b_addr, "count": DIALS, "timeout_ms": 600_000}, timeout=610)
    js = DIALS / reply["seconds"]
    ratio_line("connections/s (TCP+Noise XX+Yamux), %d seq." % DIALS, taho, js, "/s  ")
    print("  (taho's figure includes two HTTP API round trips per connection)")


def bench_idle(taho, build):
    """RSS per idle inbound connection: IDLE_CONNECTIONS fully upgraded
    connections (TCP + Noise + Yamux), each from its own identity, opened by
    taho_bench_idle_connections and held open; the daemon's RSS growth is
    divided by their number."""
    tool = os.path.join(build, "bin", "taho_bench_idle_connections")
    if not os.access(tool, os.X_OK):
        print("idle connections: %s is missing (build the bench targets)" % tool)
        return
    target = Daemon(taho, "idle-target", "--set", "mesh.max_peers=%d" % IDLE_CONNECTIONS)
    holder = None
    try:
        time.sleep(0.5)
        before = target.rss_kib()
        holder = subprocess.Popen([tool, target.addr, str(IDLE_CONNECTIONS)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        line = holder.stdout.readline().strip()
        if line != "ready %d" % IDLE_CONNECTIONS:
            print("idle connections: the holder failed (%r)" % line)
            return
        time.sleep(7)  # identify requests time out (5 s) and their buffers go
        count = len(target.api("GET", "/api/v1/peers")["peers"])
        after = target.rss_kib()
        per = (after - before) / max(1, count)
        verdict = "met" if per <= 64 else "NOT met"
        print("idle connections: %d inbound, RSS %d -> %d KiB: %.1f KiB each  (target <= 64 KiB: %s)"
              % (count, before, after, per, verdict))
    finally:
        if holder is not None:
            holder.stdin.close()
            holder.wait(timeout=30)
        target.stop()


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: run.py BUILD_DIR")
    taho = find_taho(sys.argv[1])
    a, b = Daemon(taho, "a"), Daemon(taho, "b")
    js_a = js_b = None
    if not node_modules_missing():
        # js limits inbound connections per second by default: lift that for the dial loop.
        js_a = JsPeer.start("--tcp", name="js-a")
        js_b = JsPeer.start("--tcp", "--inbound-threshold", "100000", name="js-b")
    try:
        print("loopback, %d cores; figures from this run" % os.cpu_count())
        bench_perf(a, b, js_a, js_b)
        bench_dials(a, b, js_a, js_b)
        bench_quic(taho)
        bench_idle(taho, sys.argv[1])
    finally:
        for js in (js_a, js_b):
            if js is not None:
                js.stop()
        a.stop()
        b.stop()


if __name__ == "__main__":
    main()
