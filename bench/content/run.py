#!/usr/bin/env python3
"""Content exchange benchmarks, each beside its reference from this run:

  fetch    `taho get` of a 1 GiB object between two daemons over loopback
           TCP, end to end (discovery, transfer, verification of every group,
           writing the store and the output file), vs iperf3 TCP on loopback
           moving the same bytes (target >= 0.25x)
  sources  fetch from 3 holders vs from 1 when each holder's upload is
           limited ([content] serve_mbps_per_peer), the multi-source speed-up
  ttfb     time to the first byte of GET /api/v1/content/{id} for content held
           by a connected peer (not local), vs the same GET once it is local

Usage: run.py BUILD_DIR   (TAHO_BENCH_CONTENT_MIB, default 1024)
"""
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

def load_transport_bench():
    """bench/transport/run.py, whose daemon and iperf3 helpers this reuses."""
    spec = importlib.util.spec_from_file_location("transport_bench", os.path.join(ROOT, "bench", "transport",
                                                                                  "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


transport = load_transport_bench()
Daemon, find_taho, iperf3_mbps, ratio_line = (transport.Daemon, transport.find_taho, transport.iperf3_mbps,
                                              transport.ratio_line)

CONTENT_BYTES = int(os.environ.get("TAHO_BENCH_CONTENT_MIB", "1024")) << 20
LIMITED_MBPS = int(os.environ.get("TAHO_BENCH_HOLDER_MBPS", "200"))
LIMITED_BYTES = 64 << 20


def random_file(directory, size, name):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 16 << 20))
            f.write(chunk)
            left -= len(chunk)
    return path


def publish(taho, daemon, path):
    env = dict(os.environ, TAHO_HOME=daemon.home)
    out = subprocess.run([taho, "publish", path, "--json"], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["id"]


def timed_get(taho, daemon, content_id, out):
    env = dict(os.environ, TAHO_HOME=daemon.home)
    started = time.monotonic()
    result = subprocess.run([taho, "get", content_id, "-o", out, "--json"], env=env, capture_output=True,
                            text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError("taho get failed: " + result.stderr)
    return seconds, json.loads(result.stdout)


def fetch_into_store_seconds(daemon, content_id):
    """The daemon's fetch alone (POST .../fetch, an event stream ending in done)."""
    request = urllib.request.Request("http://%s/api/v1/content/%s/fetch" % (daemon.api_addr, content_id),
                                     method="POST")
    request.add_header("Authorization", "Bearer " + daemon.token)
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=600) as response:
        events = response.read().decode()
    seconds = time.monotonic() - started
    if "event: done" not in events:
        raise RuntimeError("fetch failed: " + events[-500:])
    return seconds


def first_byte_seconds(daemon, content_id):
    host, port = daemon.api_addr.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        started = time.monotonic()
        sock.sendall(("GET /api/v1/content/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                      "Connection: close\r\n\r\n" % (content_id, daemon.api_addr, daemon.token)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("no answer")
            head += data
        status = head.split(b" ", 2)[1]
        body = head.split(b"\r\n\r\n", 1)[1]
        while not body:
            body = sock.recv(65536)
        seconds = time.monotonic() - started
        if status != b"200":
            raise RuntimeError("GET answered " + status.decode())
        return seconds


def main():
    taho = find_taho(sys.argv[1])
    work = tempfile.mkdtemp(prefix="taho-bench-content-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    daemons = []
    try:
        mib = CONTENT_BYTES >> 20
        path = random_file(work, CONTENT_BYTES, "big.bin")
        a = Daemon(taho, "holder", "--no-mdns")
        b = Daemon(taho, "fetcher", "--no-mdns")
        daemons += [a, b]
        content_id = publish(taho, a, path)
        os.remove(path)
        b.api("POST", "/api/v1/connect", {"addr": a.addr})
        into_store = fetch_into_store_seconds(b, content_id)
        b.api("DELETE", "/api/v1/content/" + content_id)
        seconds, summary = timed_get(taho, b, content_id, os.path.join(work, "out.bin"))
        os.remove(os.path.join(work, "out.bin"))
        iperf = iperf3_mbps(CONTENT_BYTES)
        ratio_line("fetch %d MiB into the store (verified, committed) vs iperf3" % mib,
                   CONTENT_BYTES * 8 / into_store / 1e6, iperf, "Mbit/s")
        ratio_line("taho get %d MiB -o FILE, end to end, vs iperf3" % mib, CONTENT_BYTES * 8 / seconds / 1e6, iperf,
                   "Mbit/s", 0.25)

        # One holder vs three, each limited.
        limit = {"TAHO__CONTENT__SERVE_MBPS_PER_PEER": str(LIMITED_MBPS)}
        holders = [Daemon(taho, "limited%d" % index, "--no-mdns", env_extra=limit) for index in range(3)]
        daemons += holders
        # Two contents on all three holders, so the second fetch cannot use
        # the first fetcher (which becomes a holder) as a fourth source.
        first = random_file(work, LIMITED_BYTES, "first.bin")
        second = random_file(work, LIMITED_BYTES, "second.bin")
        first_id = [publish(taho, holder, first) for holder in holders][0]
        second_id = [publish(taho, holder, second) for holder in holders][0]
        # The single-source fetch runs before the holders meet anyone else
        # (through the DHT they would find each other).
        one = Daemon(taho, "one-source", "--no-mdns")
        daemons.append(one)
        one.api("POST", "/api/v1/connect", {"addr": holders[0].addr})
        one_seconds, one_summary = timed_get(taho, one, first_id, os.path.join(work, "one.bin"))
        three = Daemon(taho, "three-sources", "--no-mdns")
        daemons.append(three)
        for holder in holders:
            three.api("POST", "/api/v1/connect", {"addr": holder.addr})
        three_seconds, summary = timed_get(taho, three, second_id, os.path.join(work, "three.bin"))
        print("sources  %d MiB, holders limited to %d Mbit/s each: %d holder %.2f s, %d holders %.2f s: %.2fx"
              % (LIMITED_BYTES >> 20, LIMITED_MBPS, one_summary.get("sources", 0), one_seconds,
                 summary.get("sources", 0), three_seconds, one_seconds / three_seconds))

        # Time to first byte: remote, then local.
        ttfb_id = publish(taho, a, random_file(work, 8 << 20, "ttfb.bin"))
        remote = first_byte_seconds(b, ttfb_id)
        local = first_byte_seconds(b, ttfb_id)
        print("ttfb     GET of 8 MiB held by a connected peer: %.1f ms; once local: %.1f ms"
              % (remote * 1e3, local * 1e3))
    finally:
        for daemon in daemons:
            daemon.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
