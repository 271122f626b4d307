#!/usr/bin/env python3
"""Content exchange benchmarks, each beside its reference from this run:

  fetch    a 1 GiB object between two daemons over loopback TCP and over
           QUIC. The target (>= 0.25x iperf3 TCP on loopback) is on the
           fetch between the daemons, end to end: from the request to the
           object committed in the fetching daemon's store (holders found,
           ranges transferred, every 16 KiB group verified, written, the
           outboard built, fsynced, renamed into place). Beside it, `taho get
           -o FILE` (that fetch plus a third process, the CLI, writing a
           second copy of every byte into FILE and fsyncing it), through the
           store (the CLI copies from the daemon's store as the fetch goes)
           and through HTTP (a CLI that cannot read the store). Each is timed
           TAHO_BENCH_CONTENT_ROUNDS times (3), as is iperf3; the medians are
           compared and the range printed. QUIC vs iperf3 -u at the best rate
           that loses <= 1 %.
  sources  fetch from 3 holders vs from 1 when each holder's upload is
           limited: by tc (each holder daemon in its own network namespace
           behind a veth whose egress a tbf qdisc limits; needs root), and by
           the daemon's own limiter ([content] serve_mbps_per_peer)
  ttfb     time to the first byte of GET /api/v1/content/{id} for content held
           by a connected peer (not local), vs the same GET once it is local

Prints every figure side by side and writes them to results.json beside
this file (TAHO_BENCH_CONTENT_RESULTS to change). Environment:
TAHO_BENCH_CONTENT_MIB (1024), TAHO_BENCH_HOLDER_MBPS (200),
TAHO_BENCH_SOURCES_MIB (64), TAHO_BENCH_CONTENT_ROUNDS (3),
TAHO_BENCH_OUT_DIR (where FILE goes; default: beside the fetching daemon's
home, the same file system as its store), TAHO_BENCH_CONTENT_DIR (where the
daemons' homes go).
The homes go to /dev/shm (memory) when it has room, like iperf3, which
moves bytes from memory to memory: that measures the software. On a disk
the fetch is bounded by the disk's durable write rate (the store fsyncs
the object, `get -o` also FILE), which the run prints beside the figures;
TAHO_BENCH_CONTENT_DIR=/var/tmp measures with the disk.

Usage: run.py BUILD_DIR
"""
import importlib.util
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "netns"))
import netns_harness  # noqa: E402


def load_transport_bench():
    """bench/transport/run.py, whose daemon and iperf3 helpers this reuses."""
    spec = importlib.util.spec_from_file_location("transport_bench", os.path.join(ROOT, "bench", "transport",
                                                                                  "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


transport = load_transport_bench()
Daemon, find_taho = transport.Daemon, transport.find_taho
iperf3_mbps, iperf3_udp_mbps = transport.iperf3_mbps, transport.iperf3_udp_mbps

CONTENT_BYTES = int(os.environ.get("TAHO_BENCH_CONTENT_MIB", "1024")) << 20
LIMITED_MBPS = int(os.environ.get("TAHO_BENCH_HOLDER_MBPS", "200"))
LIMITED_BYTES = int(os.environ.get("TAHO_BENCH_SOURCES_MIB", "64")) << 20
OUT_DIR = os.environ.get("TAHO_BENCH_OUT_DIR")
ROUNDS = max(1, int(os.environ.get("TAHO_BENCH_CONTENT_ROUNDS", "3")))
RESULTS = os.environ.get("TAHO_BENCH_CONTENT_RESULTS", os.path.join(HERE, "results.json"))
QUIC_LISTEN = "/ip4/127.0.0.1/udp/0/quic-v1"


def iperf3_rounds_mbps(nbytes):
    """iperf3 TCP timed as often as taho's fetches: the rounds' Mbit/s."""
    return [iperf3_mbps(nbytes) for _ in range(ROUNDS)]


def mbps(nbytes, seconds):
    return nbytes * 8 / seconds / 1e6


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def spread(values):
    """Min-max of a measure's rounds, for the printout."""
    return "%.0f-%.0f" % (min(values), max(values)) if len(values) > 1 else "%.0f" % values[0]


def homes_dir():
    """Where the daemons' homes (stores) go: TAHO_BENCH_CONTENT_DIR, else
    /dev/shm when it has room for the run's copies, else TMPDIR."""
    chosen = os.environ.get("TAHO_BENCH_CONTENT_DIR")
    if chosen:
        return chosen
    needed = 6 * CONTENT_BYTES  # published, fetched and FILE, over TCP and QUIC, with room to spare
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        stats = os.statvfs("/dev/shm")
        if stats.f_bavail * stats.f_frsize >= needed:
            return "/dev/shm"
    return tempfile.gettempdir()


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def ratio_line(name, ours, theirs, reference, target=None, rounds=None):
    """One figure beside its reference; with `rounds` (ours, theirs: the
    Mbit/s of each round) the medians are compared and the ranges shown."""
    ratio = ours / theirs if theirs else float("nan")
    goal = "" if target is None else "  (target >= %gx: %s)" % (target, "met" if ratio >= target else "NOT met")
    print("  %-46s %8.0f Mbit/s  vs %-12s %8.0f   %.2fx%s" % (name, ours, reference, theirs, ratio, goal), flush=True)
    if rounds:
        print("  %-46s %s Mbit/s over %d rounds (median above), %s %s" % (
            "", spread(rounds[0]), len(rounds[0]), reference, spread(rounds[1])), flush=True)
    return ratio


def random_file(directory, size, name):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 16 << 20))
            f.write(chunk)
            left -= len(chunk)
    return path


def cli_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
    env["TAHO_HOME"] = home
    return env


def publish(taho, daemon, path):
    out = subprocess.run([taho, "publish", path, "--json"], env=cli_env(daemon.home), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)["id"]


def api_only_home(daemon, work):
    """A TAHO_HOME that reaches `daemon`'s API but not its store, as a CLI on
    another machine or of another user would: `taho get` goes through HTTP."""
    home = tempfile.mkdtemp(prefix="api-only-", dir=work)
    for name in ("api.addr", "api.token"):
        shutil.copy(os.path.join(daemon.home, name), os.path.join(home, name))
    return home


def timed_get(taho, home, content_id, out):
    started = time.monotonic()
    result = subprocess.run([taho, "get", content_id, "-o", out, "--json"], env=cli_env(home), capture_output=True,
                            text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError("taho get failed: " + result.stderr)
    summary = json.loads(result.stdout)
    os.remove(out)
    return seconds, summary


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


def transport_of(daemon, peer_id):
    """The transports of `daemon`'s connections to `peer_id`, e.g. "quic"."""
    found = [peer.get("transport", "?") for peer in daemon.api("GET", "/api/v1/peers")["peers"]
             if peer["peer_id"] == peer_id]
    return "+".join(sorted(set(found))) or "not connected"


def bench_one_transport(taho, work, name, holder, fetcher, connect_addr):
    """Fetch into the store, then `taho get -o` through the store (each
    ROUNDS times) and through HTTP, each time from scratch (the fetcher's
    copy removed in between)."""
    out_dir = OUT_DIR or os.path.dirname(fetcher.home)
    content_id = publish(taho, holder, random_file(work, CONTENT_BYTES, "%s.bin" % name))
    os.remove(os.path.join(work, "%s.bin" % name))
    fetcher.api("POST", "/api/v1/connect", {"addr": connect_addr})
    figures = {"into_store_rounds_s": [], "get_store_rounds_s": []}
    for _ in range(ROUNDS):
        figures["into_store_rounds_s"].append(fetch_into_store_seconds(fetcher, content_id))
        fetcher.api("DELETE", "/api/v1/content/" + content_id)
    figures["connection"] = transport_of(fetcher, holder.peer_id)
    out = os.path.join(out_dir, "taho-bench-content-%s.out" % name)
    for _ in range(ROUNDS):
        seconds, summary = timed_get(taho, fetcher.home, content_id, out)
        figures["get_store_rounds_s"].append(seconds)
        figures["get_store_via"] = summary.get("via")
        fetcher.api("DELETE", "/api/v1/content/" + content_id)
    figures["get_http_s"], summary = timed_get(taho, api_only_home(fetcher, work), content_id, out)
    figures["get_http_via"] = summary.get("via")
    # Content already local: the copy out of the store alone.
    figures["get_local_s"], summary = timed_get(taho, fetcher.home, content_id, out)
    fetcher.api("DELETE", "/api/v1/content/" + content_id)
    for key in ("into_store", "get_store"):
        figures[key + "_rounds_mbps"] = [mbps(CONTENT_BYTES, s) for s in figures[key + "_rounds_s"]]
        figures[key + "_mbps"] = median(figures[key + "_rounds_mbps"])
    for key in ("get_http", "get_local"):
        figures[key + "_mbps"] = mbps(CONTENT_BYTES, figures[key + "_s"])
    figures["out_dir"] = out_dir
    return figures


def durable_write_mbps(directory, nbytes):
    """Writing nbytes to a new file in `directory` and fdatasync-ing it: what
    the file system under the store and FILE sustains durably. `taho get -o`
    writes the bytes twice (store and FILE) and syncs both, so on a disk it
    cannot beat half this; on tmpfs it measures memory."""
    path = os.path.join(directory, "taho-bench-content-disk.tmp")
    chunk = os.urandom(1 << 20)
    started = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(nbytes // len(chunk)):
            os.write(fd, chunk)
        os.fdatasync(fd)
    finally:
        os.close(fd)
        os.remove(path)
    return mbps(nbytes, time.monotonic() - started)


def file_system_of(directory):
    result = subprocess.run(["stat", "-f", "-c", "%T", directory], capture_output=True, text=True)
    return result.stdout.strip() or "?"


def bench_fetch(taho, work, results):
    mib = CONTENT_BYTES >> 20
    iperf_rounds = iperf3_rounds_mbps(CONTENT_BYTES)
    iperf = median(iperf_rounds)
    # iperf3 -u's reference: the highest rate tried that loses at most 1 %.
    udp, udp_rate = 0.0, None
    for rate_mbit in (1000, 2000, 4000, 8000):
        received, lost = iperf3_udp_mbps(min(CONTENT_BYTES, 256 << 20), "%dM" % rate_mbit)
        if lost <= 1.0 and received > udp:
            udp, udp_rate = received, rate_mbit
    daemons = []
    try:
        a = Daemon(taho, "holder", "--no-mdns")
        b = Daemon(taho, "fetcher", "--no-mdns")
        daemons += [a, b]
        tcp = bench_one_transport(taho, work, "tcp", a, b, a.addr)
        a.stop()
        b.stop()
        daemons.clear()
        listen = ("--no-mdns", "--listen", QUIC_LISTEN)
        a = Daemon(taho, "quic-holder", *listen)
        b = Daemon(taho, "quic-fetcher", *listen)
        daemons += [a, b]
        quic_addr = next(x for x in a.api("GET", "/api/v1/id")["addrs"] if "/quic-v1/" in x)
        quic = bench_one_transport(taho, work, "quic", a, b, quic_addr)
    finally:
        for daemon in daemons:
            daemon.stop()

    disk = durable_write_mbps(tcp["out_dir"], CONTENT_BYTES)
    fs_type = file_system_of(tcp["out_dir"])
    print("fetch %d MiB over loopback (store and FILE in %s, %s)" % (mib, tcp["out_dir"], fs_type))
    print("  %-46s %8s        %-15s %8s   %s" % ("", "taho", "reference", "", "ratio"))
    rows = [("TCP", tcp, iperf, "iperf3 TCP", 0.25), ("QUIC", quic, udp, "iperf3 -u", None)]
    results["fetch"] = {"mib": mib, "rounds": ROUNDS, "iperf3_tcp_mbps": iperf,
                        "iperf3_tcp_rounds_mbps": iperf_rounds, "iperf3_udp_mbps": udp,
                        "iperf3_udp_rate_mbit": udp_rate, "tcp": tcp, "quic": quic,
                        "durable_write_mbps": disk, "file_system": fs_type}
    for label, figures, reference, reference_name, target in rows:
        reference_rounds = iperf_rounds if label == "TCP" else [reference]
        figures["into_store_ratio"] = ratio_line(
            "%s fetch between the daemons, end to end (%s)" % (label, figures["connection"]),
            figures["into_store_mbps"], reference, reference_name, target,
            rounds=(figures["into_store_rounds_mbps"], reference_rounds))
        figures["get_store_ratio"] = ratio_line(
            "%s taho get -o, via %s" % (label, figures["get_store_via"]), figures["get_store_mbps"],
            reference, reference_name, rounds=(figures["get_store_rounds_mbps"], reference_rounds))
        ratio_line("%s taho get -o, via %s" % (label, figures["get_http_via"]), figures["get_http_mbps"],
                   reference, reference_name)
        ratio_line("%s taho get -o of local content (copy+hash)" % label, figures["get_local_mbps"], reference,
                   reference_name)
    print("  (iperf3 -u: 8 MiB socket buffers, best rate tried that lost <= 1 %%: %s Mbit/s)" % udp_rate)
    print("  (end to end: from the request to the object committed in the fetcher's store, every group verified"
          " and written; get -o adds the CLI's second copy into FILE, a third busy process beside the two daemons)")
    print("  durable write of %d MiB to that file system (write + fdatasync): %.0f Mbit/s; get -o writes and"
          " syncs twice that (store and FILE): TCP get -o is %.2fx of half of it%s"
          % (mib, disk, tcp["get_store_mbps"] / (disk / 2),
             "" if fs_type == "tmpfs" else " (the disk bounds these figures; /dev/shm measures the software)"))
    print("  get -o via store vs into the store: TCP %.2fx, QUIC %.2fx; via store vs via HTTP: TCP %.2fx, QUIC %.2fx"
          % (tcp["get_store_mbps"] / tcp["into_store_mbps"], quic["get_store_mbps"] / quic["into_store_mbps"],
             tcp["get_store_mbps"] / tcp["get_http_mbps"], quic["get_store_mbps"] / quic["get_http_mbps"]), flush=True)


def one_vs_three(taho, work, holders, make_fetcher, holder_addr, tag):
    """Fetch content A with one holder connected, content B with all three."""
    # Two contents on all three holders, so the second fetch cannot use the
    # first fetcher (which becomes a holder) as a fourth source.
    first = random_file(work, LIMITED_BYTES, "first-%s.bin" % tag)
    second = random_file(work, LIMITED_BYTES, "second-%s.bin" % tag)
    first_id = [publish(taho, holder, first) for holder in holders][0]
    second_id = [publish(taho, holder, second) for holder in holders][0]
    # The single-source fetch runs before the holders meet anyone else
    # (through the DHT they would find each other).
    one = make_fetcher("one-source-" + tag)
    one.api("POST", "/api/v1/connect", {"addr": holder_addr(holders[0])})
    one_seconds, one_summary = timed_get(taho, one.home, first_id, os.path.join(work, "one.bin"))
    three = make_fetcher("three-sources-" + tag)
    for holder in holders:
        three.api("POST", "/api/v1/connect", {"addr": holder_addr(holder)})
    three_seconds, three_summary = timed_get(taho, three.home, second_id, os.path.join(work, "three.bin"))
    return {"one_s": one_seconds, "one_sources": one_summary.get("sources", 0), "three_s": three_seconds,
            "three_sources": three_summary.get("sources", 0), "speedup": one_seconds / three_seconds,
            "one_mbps": mbps(LIMITED_BYTES, one_seconds), "three_mbps": mbps(LIMITED_BYTES, three_seconds)}


class NetnsDaemon(Daemon):
    """A taho daemon inside namespace `index` of `lab`, its API and listen
    address on the namespace's LAN address (reachable from the host through
    the bridge's address)."""

    def __init__(self, taho, lab, index, name):
        self.home = tempfile.mkdtemp(prefix="taho-bench-%s-" % name)
        address = lab.address(index)
        self.process = lab.popen(index, [taho, "daemon", "--api-listen", address + ":0", "--listen",
                                         "/ip4/%s/tcp/0" % address, "--no-mdns", "--json"],
                                 env=cli_env(self.home), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = json.loads(self.process.stdout.readline())
        self.peer_id = ready["peer_id"]
        with open(os.path.join(self.home, "api.addr")) as f:
            self.api_addr = f.read().strip()
        with open(os.path.join(self.home, "api.token")) as f:
            self.token = f.read().strip()
        self.addr = next(x for x in self.api("GET", "/api/v1/id")["addrs"] if address in x)


def free_subnet():
    """A /24 no route of this host covers, for the lab's bridge."""
    routes = subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    for _ in range(50):
        prefix = "10.%d.%d." % (random.randint(100, 250), random.randint(0, 255))
        if prefix not in routes:
            return prefix
    raise RuntimeError("no free 10.x.y.0/24 for the lab")


def sources_with_tc(taho, work):
    unavailable = netns_harness.netns_unavailable() or (None if shutil.which("tc") else "tc is not installed")
    if unavailable:
        return None, unavailable
    netns_harness.SUBNET_PREFIX = free_subnet()
    daemons = []
    with netns_harness.NetnsLab(3) as lab:
        try:
            # The host joins the LAN through the bridge, so daemons on the host
            # (the fetchers) reach the holders, and this script their APIs.
            subprocess.run(["ip", "addr", "add", netns_harness.SUBNET_PREFIX + "254/24", "dev", lab.bridge],
                           check=True)
            burst = max(64 << 10, LIMITED_MBPS * 1000 * 1000 // 8 // 100)  # 10 ms of traffic
            for index in range(3):
                result = lab.run(index, ["tc", "qdisc", "add", "dev", netns_harness.LAN_INTERFACE, "root", "tbf",
                                         "rate", "%dmbit" % LIMITED_MBPS, "burst", str(burst), "latency", "50ms"])
                if result.returncode != 0:
                    return None, "tc qdisc add failed: " + result.stderr.strip()
            holders = [NetnsDaemon(taho, lab, index, "tc-holder%d" % index) for index in range(3)]
            daemons += holders

            def make_fetcher(name):
                daemon = Daemon(taho, name, "--no-mdns")
                daemons.append(daemon)
                return daemon

            return one_vs_three(taho, work, holders, make_fetcher, lambda holder: holder.addr, "tc"), None
        finally:
            for daemon in daemons:
                daemon.stop()


def sources_with_limiter(taho, work):
    limit = {"TAHO__CONTENT__SERVE_MBPS_PER_PEER": str(LIMITED_MBPS)}
    daemons = []
    try:
        holders = [Daemon(taho, "limited%d" % index, "--no-mdns", env_extra=limit) for index in range(3)]
        daemons += holders

        def make_fetcher(name):
            daemon = Daemon(taho, name, "--no-mdns")
            daemons.append(daemon)
            return daemon

        return one_vs_three(taho, work, holders, make_fetcher, lambda holder: holder.addr, "limiter")
    finally:
        for daemon in daemons:
            daemon.stop()


def bench_sources(taho, work, results):
    print("sources  %d MiB, each holder's upload limited to %d Mbit/s: 1 holder vs 3 (taho get -o, end to end)"
          % (LIMITED_BYTES >> 20, LIMITED_MBPS))
    results["sources"] = {"mib": LIMITED_BYTES >> 20, "holder_mbps": LIMITED_MBPS}
    tc, why_not = sources_with_tc(taho, work)
    limiter = sources_with_limiter(taho, work)
    for name, figures in (("tc tbf on each holder's veth", tc), ("serve_mbps_per_peer limiter", limiter)):
        if figures is None:
            print("  %-30s skipped: %s" % (name, why_not))
            continue
        print("  %-30s %d source %5.2f s (%4.0f Mbit/s)  %d sources %5.2f s (%4.0f Mbit/s)  speed-up %.2fx"
              % (name, figures["one_sources"], figures["one_s"], figures["one_mbps"], figures["three_sources"],
                 figures["three_s"], figures["three_mbps"], figures["speedup"]), flush=True)
    results["sources"]["tc"] = tc if tc is not None else {"skipped": why_not}
    results["sources"]["limiter"] = limiter


def bench_ttfb(taho, work, results):
    daemons = []
    try:
        a = Daemon(taho, "ttfb-holder", "--no-mdns")
        b = Daemon(taho, "ttfb-fetcher", "--no-mdns")
        daemons += [a, b]
        b.api("POST", "/api/v1/connect", {"addr": a.addr})
        ttfb_id = publish(taho, a, random_file(work, 8 << 20, "ttfb.bin"))
        remote = first_byte_seconds(b, ttfb_id)
        # The first GET answers while its fetch runs (and cancels it when we
        # hang up): fetch the rest, then time a GET of local content.
        fetch_into_store_seconds(b, ttfb_id)
        local = first_byte_seconds(b, ttfb_id)
    finally:
        for daemon in daemons:
            daemon.stop()
    print("ttfb     GET of 8 MiB held by a connected peer: %.1f ms; once local: %.1f ms"
          % (remote * 1e3, local * 1e3))
    results["ttfb"] = {"remote_ms": remote * 1e3, "local_ms": local * 1e3}


def main():
    taho = find_taho(sys.argv[1])
    # The daemons' homes (Daemon uses tempfile's directory) and the files published.
    tempfile.tempdir = homes_dir()
    work = tempfile.mkdtemp(prefix="taho-bench-content-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    results = {"config": {"cores": os.cpu_count(), "content_mib": CONTENT_BYTES >> 20},
               "load_average_before": load_average()}
    print("loopback, %d cores, load average %s; figures from this run; daemons' homes in %s (%s)"
          % (os.cpu_count(), " ".join(map(str, load_average())), tempfile.tempdir,
             file_system_of(tempfile.tempdir)))
    results["config"]["homes_dir"] = tempfile.tempdir
    started = time.monotonic()
    try:
        bench_fetch(taho, work, results)
        bench_sources(taho, work, results)
        bench_ttfb(taho, work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_average_after"] = load_average()
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=1)
    print("load average now %s (%.0f s; results in %s)" % (" ".join(map(str, load_average())),
                                                           time.monotonic() - started, RESULTS))


if __name__ == "__main__":
    main()
