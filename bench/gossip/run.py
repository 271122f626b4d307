#!/usr/bin/env python3
"""Gossip benchmark: N taho daemons on loopback in one topic, then the same
topology of N js-libp2p peers (@libp2p/gossipsub 17), in one run.

Each peer is driven by a process speaking bench_peer.mjs's protocol: the
application of one taho daemon (publishes over the HTTP API, receives from
its event stream) is taho_bench_gossip_client (taho_gossip_client.cpp, a
small native client, so the figures are the daemons' and not those of 20
node.js processes; TAHO_BENCH_GOSSIP_CLIENT=node runs the equivalent
taho_gossip_client.mjs instead), js_gossip_peer.mjs is a js-libp2p node itself. Every message carries its send time (CLOCK_MONOTONIC
ns, one clock for the machine); latency = receive - send for every
(message, subscriber) pair.

Phases, the same for both:
  latency     LAT_COUNT messages paced at LAT_RATE/s from one publisher:
              p50/p99 end-to-end latency at a load both sustain
  throughput  TPUT_COUNT messages as fast as the node accepts (WINDOW
              publishes in flight per publisher) from PUBLISHERS publishers:
              delivered messages/s per subscriber, and latency under load

Topology: daemon 0 is the bootstrap node, every other daemon knows only it
and keeps MIN_PEERS connections (its DHT introduces the rest); the js peers
then dial exactly the connections the taho daemons ended up with.

Targets (issue): taho >= 10x js throughput, taho p99 <= js p99 / 5.
Usage: run.py BUILD_DIR   (TAHO_BIN overrides the binary; knobs below via
TAHO_BENCH_GOSSIP_<NAME>, e.g. TAHO_BENCH_GOSSIP_NODES=20)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JS_MODULES = os.path.join(ROOT, "tests", "interop", "js", "node_modules")


def knob(name, default, kind=int):
    return kind(os.environ.get("TAHO_BENCH_GOSSIP_" + name, default))


NODES = knob("NODES", 20)
MIN_PEERS = knob("MIN_PEERS", 8)
SIZE = knob("SIZE", 256)
LAT_COUNT = knob("LAT_COUNT", 200)
LAT_RATE = knob("LAT_RATE", 20)  # js's 20 peers on 2 cores fall behind at 50/s
TPUT_COUNT = knob("TPUT_COUNT", 2000)
PUBLISHERS = knob("PUBLISHERS", 1)
WINDOW = knob("WINDOW", 16)
SETTLE_S = knob("SETTLE_S", 60.0, float)  # longest wait for the last deliveries
STALL_S = 3.0  # no new delivery for this long: the missing ones are lost
SIDES = os.environ.get("TAHO_BENCH_GOSSIP_SIDES", "taho,js").split(",")  # a quick look at one side
TOPIC = os.environ.get("TAHO_BENCH_GOSSIP_TOPIC", "taho-gossip-bench")
CLIENT = os.environ.get("TAHO_BENCH_GOSSIP_CLIENT", "native")  # the taho side's application: native | node
RESULTS = os.environ.get("TAHO_BENCH_GOSSIP_RESULTS", os.path.join(HERE, "results.json"))


def find_taho(build):
    explicit = os.environ.get("TAHO_BIN")
    if explicit:
        return explicit
    for candidate in (os.path.join(build, "bin", "taho"), os.path.join(build, "src", "cli", "taho")):
        if os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("no taho binary under %s (or set TAHO_BIN)" % build)


def taho_client_argv(build):
    """The command line of the taho side's application, less --home."""
    if CLIENT == "node":
        return ["node", os.path.join(HERE, "taho_gossip_client.mjs")]
    for native in (os.path.join(build, "bin", "taho_bench_gossip_client"),
                   os.path.join(build, "bench", "gossip", "taho_bench_gossip_client")):
        if os.access(native, os.X_OK):
            return [native]
    raise SystemExit("no taho_bench_gossip_client under %s (build that target, or set TAHO_BENCH_GOSSIP_CLIENT=node)"
                     % build)


class Peer:
    """A node process speaking bench_peer.mjs's JSON-lines protocol."""

    def __init__(self, name, argv):
        self.name = name
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.replies = {}
        self.cond = threading.Condition()
        self.next_id = 0
        self.ready = None
        self.stderr_tail = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                if event.get("event") == "ready":
                    self.ready = event
                elif "id" in event:
                    self.replies[event["id"]] = event
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _drain_stderr(self):
        for line in self.process.stderr:
            self.stderr_tail = (self.stderr_tail + [line.rstrip()])[-20:]

    def wait_ready(self, timeout=60):
        with self.cond:
            if not self.cond.wait_for(lambda: self.ready or self.process.poll() is not None, timeout):
                raise RuntimeError("%s: not ready after %ss" % (self.name, timeout))
        if self.ready is None:
            raise RuntimeError("%s exited: %s" % (self.name, "\n".join(self.stderr_tail)))
        return self.ready

    def send(self, command):
        with self.cond:
            self.next_id += 1
            ident = self.next_id
        self.process.stdin.write(json.dumps(dict(command, id=ident)) + "\n")
        self.process.stdin.flush()
        return ident

    def wait(self, ident, timeout=120):
        with self.cond:
            if not self.cond.wait_for(lambda: ident in self.replies or self.process.poll() is not None, timeout):
                raise RuntimeError("%s: no reply to command %d in %ss" % (self.name, ident, timeout))
            if ident not in self.replies:
                raise RuntimeError("%s exited: %s" % (self.name, "\n".join(self.stderr_tail)))
            reply = self.replies.pop(ident)
        if reply.get("event") == "error":
            raise RuntimeError("%s: %s failed: %s" % (self.name, reply.get("cmd"), reply.get("message")))
        return reply

    def call(self, command, timeout=120):
        return self.wait(self.send(command), timeout)

    def stop(self):
        if self.process.poll() is None:
            try:
                self.send({"cmd": "stop"})
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def call_all(peers, command, timeout=120):
    """Sends the command to every peer at once, then gathers the replies."""
    idents = [peer.send(command) for peer in peers]
    return [peer.wait(ident, timeout) for peer, ident in zip(peers, idents)]


class TahoDaemon:
    def __init__(self, taho, index, bootstrap=None):
        self.home = tempfile.mkdtemp(prefix="taho-gossip-bench-%d-" % index)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        env["TAHO_HOME"] = self.home
        env["TAHO__MESH__MIN_PEERS"] = str(MIN_PEERS)
        argv = [taho, "daemon", "--api-listen", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns",
                "--json"]
        if bootstrap:
            argv += ["--bootstrap", bootstrap]
        self.log = open(os.path.join(self.home, "daemon.log"), "w")
        try:
            self.process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        except OSError:
            self.log.close()
            shutil.rmtree(self.home, ignore_errors=True)
            raise

    def wait_ready(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("taho daemon exited: see %s" % self.log.name)
        return json.loads(line)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * (len(sorted_values) - 1)))))
    return sorted_values[index]


def peer_figures(latencies_ns):
    ordered = sorted(latencies_ns)
    if not ordered:
        return {"count": 0, "p50_ms": None, "p99_ms": None}  # a publisher alone: nothing from others
    return {"count": len(ordered), "p50_ms": percentile(ordered, 0.5) / 1e6, "p99_ms": percentile(ordered, 0.99) / 1e6}


def wait_for_mesh(peers, label, timeout=60):
    """Until every peer has a gossip mesh of >= 4 (D_lo) peers for the topic."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = call_all(peers, {"cmd": "status"})
        meshes = [s["mesh_peers"] for s in statuses]
        if min(meshes) >= 4 or time.monotonic() > deadline:
            connections = ["%d/%d" % (s["connections"], len(set(s["peers"]))) if "peers" in s else str(s["connections"])
                           for s in statuses]
            print("  %s: connections (/distinct peers) %s, mesh %s" % (label, " ".join(connections), meshes),
                  flush=True)
            return statuses
        time.sleep(0.5)


def warm_up(peers, label, rounds_max=30):
    """Publishes rounds of 20 messages (20/s) from each publisher until every
    other peer receives a whole round: subscriptions have spread."""
    for round_index in range(rounds_max):
        phase = "w%d" % round_index
        for publisher in range(PUBLISHERS):
            peers[publisher].call({"cmd": "publish", "phase": phase, "publisher": publisher, "count": 20,
                                   "size": SIZE, "rate": 20})
        time.sleep(0.3)
        reports = [p.call({"cmd": "collect", "phase": phase}) for p in peers]
        expected = [20 * (PUBLISHERS - (1 if i < PUBLISHERS else 0)) for i in range(len(peers))]
        if all(r["count"] >= e for r, e in zip(reports, expected)):
            return round_index + 1
    raise RuntimeError("%s: messages did not reach every peer after %d warm-up rounds" % (label, rounds_max))


def run_phase(peers, phase, count, rate, publishers, window):
    """Publishes `count` messages (split over `publishers`), waits until every
    subscriber has them all or deliveries stop, and returns the figures."""
    per_publisher = count // publishers
    idents = [(peers[i], peers[i].send({"cmd": "publish", "phase": phase, "publisher": i, "count": per_publisher,
                                         "size": SIZE, "rate": rate, "window": window}))
              for i in range(publishers)]
    published = [peer.wait(ident, timeout=600) for peer, ident in idents]
    expected = [per_publisher * (publishers - (1 if i < publishers else 0)) for i in range(len(peers))]
    last_total, last_change = -1, time.monotonic()
    give_up = time.monotonic() + SETTLE_S
    while time.monotonic() < give_up:
        reports = [p.call({"cmd": "collect", "phase": phase}) for p in peers]
        total = sum(r["count"] for r in reports)
        if all(r["count"] >= e for r, e in zip(reports, expected)):
            break
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > STALL_S:
            break
        time.sleep(0.2)
    reports = [p.call({"cmd": "collect", "phase": phase, "samples": True, "exclude_publisher": i}
                      if i < publishers else {"cmd": "collect", "phase": phase, "samples": True})
               for i, p in enumerate(peers)]
    latencies = sorted(x for r in reports for x in r["latencies_ns"])
    start_ns = min(int(p["first_ns"]) for p in published)
    publish_end_ns = max(int(p["last_ns"]) for p in published)
    ends = [int(r["last_ns"]) for r in reports if r["last_ns"] is not None]
    elapsed_s = (max(ends) - start_ns) / 1e9 if ends else float("nan")
    recipients = len(peers) - 1  # of each message: every peer but its publisher
    deliveries = sum(r["count"] for r in reports)
    per_subscriber = [r["count"] / ((int(r["last_ns"]) - start_ns) / 1e9) for r in reports if r["last_ns"]]
    accepted = sum(p["published"] for p in published)
    return {
        "published": accepted,
        "refused": sum(p["refused"] for p in published),
        "refusal": next((p["last_error"] for p in published if p["last_error"]), None),
        "publish_rate": accepted / ((publish_end_ns - start_ns) / 1e9),
        "deliveries": deliveries,
        "deliveries_expected": sum(expected),
        "duplicates_seen": sum(r["duplicates"] for r in reports),
        "elapsed_s": elapsed_s,
        # Messages per second delivered to all their recipients: total
        # deliveries / recipients per message / elapsed.
        "msgs_per_s": deliveries / max(1, recipients) / elapsed_s,
        "deliveries_per_s": deliveries / elapsed_s,
        "per_subscriber_msgs_per_s_min": min(per_subscriber) if per_subscriber else 0,
        "p50_ms": percentile(latencies, 0.50) / 1e6,
        "p99_ms": percentile(latencies, 0.99) / 1e6,
        "max_ms": (latencies[-1] / 1e6) if latencies else float("nan"),
        # Which peers lag: each one's count and latency percentiles.
        "by_peer": [peer_figures(r["latencies_ns"]) for r in reports],
    }


def cpu_seconds(pids):
    """User + system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def with_cpu(pid_groups, run):
    """Runs run() and adds each group's CPU seconds and CPU us per delivery:
    on a shared machine, cost per message is steadier than wall-clock rates."""
    before = {name: [cpu_seconds([pid]) for pid in pids] for name, pids in pid_groups.items()}
    result = run()
    for name, pids in pid_groups.items():
        # Per process too: the publisher's node works more than a relay.
        by_process = [cpu_seconds([pid]) - start for pid, start in zip(pids, before[name])]
        used = sum(by_process)
        result["cpu_s_" + name] = used
        result["cpu_s_by_process_" + name] = by_process
        result["cpu_us_per_delivery_" + name] = used * 1e6 / max(1, result["deliveries"])
    return result


def measure(peers, label, pid_groups):
    print("  %s: warm-up" % label, flush=True)
    rounds = warm_up(peers, label)
    time.sleep(2)  # a couple of heartbeats: meshes settle after the warm-up
    wait_for_mesh(peers, label)
    result = {"warm_up_rounds": rounds}
    result["latency"] = with_cpu(pid_groups, lambda: run_phase(peers, "lat", LAT_COUNT, LAT_RATE, 1, 1))
    print("  %s latency phase: %s" % (label, brief(result["latency"])), flush=True)
    if result["latency"]["publish_rate"] < 0.9 * LAT_RATE:
        print("  %s: the publisher fell behind %d/s: these latencies include its backlog" % (label, LAT_RATE))
    time.sleep(1)
    result["throughput"] = with_cpu(pid_groups, lambda: run_phase(peers, "tput", TPUT_COUNT, 0, PUBLISHERS, WINDOW))
    print("  %s throughput phase: %s" % (label, brief(result["throughput"])), flush=True)
    return result


def brief(phase):
    return ("%d/%d delivered in %.2f s, %.0f msg/s per subscriber (publish %.0f/s, %d refused), p50 %.2f ms, "
            "p99 %.2f ms" % (phase["deliveries"], phase["deliveries_expected"], phase["elapsed_s"],
                             phase["msgs_per_s"], phase["publish_rate"], phase["refused"], phase["p50_ms"],
                             phase["p99_ms"]))


def run_taho(taho, client_argv):
    daemons, clients = [], []
    try:
        print("- taho: %d daemons (%s)" % (NODES, taho), flush=True)
        daemons.append(TahoDaemon(taho, 0))
        daemons[0].wait_ready()
        boot = Peer("taho-client-0", client_argv + ["--home", daemons[0].home, "--topic", TOPIC])
        clients.append(boot)
        bootstrap = next(a for a in boot.wait_ready()["addrs"] if "/tcp/" in a)
        for i in range(1, NODES):
            daemons.append(TahoDaemon(taho, i, bootstrap))
        for daemon in daemons[1:]:
            daemon.wait_ready()
        for i in range(1, NODES):
            clients.append(Peer("taho-client-%d" % i, client_argv + ["--home", daemons[i].home, "--topic", TOPIC]))
        for client in clients:
            client.wait_ready()
        call_all(clients, {"cmd": "subscribe"})
        statuses = wait_for_mesh(clients, "taho")
        ids = [c.ready["peer_id"] for c in clients]
        edges = sorted({tuple(sorted((i, ids.index(p)))) for i, s in enumerate(statuses) for p in s["peers"]
                        if p in ids})
        pid_groups = {"nodes": [d.process.pid for d in daemons], "apps": [c.process.pid for c in clients]}
        return measure(clients, "taho", pid_groups), edges
    finally:
        for client in clients:
            client.stop()
        for daemon in daemons:
            daemon.stop()


def run_js(edges):
    peers = []
    try:
        print("- js-libp2p: %d peers, the taho daemons' %d connections" % (NODES, len(edges)), flush=True)
        for i in range(NODES):
            peers.append(Peer("js-%d" % i, ["node", os.path.join(HERE, "js_gossip_peer.mjs"), "--topic", TOPIC]))
        for peer in peers:
            peer.wait_ready(timeout=120)
        dials = {}
        for a, b in edges:
            dials.setdefault(a, []).append(next(x for x in peers[b].ready["addrs"] if "/tcp/" in x))
        idents = [(peers[a], peers[a].send({"cmd": "dial", "addrs": addrs})) for a, addrs in dials.items()]
        for peer, ident in idents:
            peer.wait(ident, timeout=180)
        call_all(peers, {"cmd": "subscribe"})
        wait_for_mesh(peers, "js")
        return measure(peers, "js", {"nodes": [p.process.pid for p in peers]})
    finally:
        for peer in peers:
            peer.stop()


def without_nan(value):
    """JSON has no NaN (a phase where nothing arrived): null instead."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_nan(v) for v in value]
    return value


def complete_graph(nodes):
    return [(a, b) for a in range(nodes) for b in range(a + 1, nodes)]


def verdict(met):
    return "met" if met else "NOT met"


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: run.py BUILD_DIR")
    taho = find_taho(sys.argv[1])
    client_argv = taho_client_argv(sys.argv[1]) if "taho" in SIDES else None
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    print("loopback, %d cores, load average %s; %d nodes, min_peers %d, %d-byte messages; latency phase %d msgs "
          "at %d/s; throughput phase %d msgs from %d publisher(s), %d in flight each; taho client: %s"
          % (os.cpu_count(), load_start, NODES, MIN_PEERS, SIZE, LAT_COUNT, LAT_RATE, TPUT_COUNT, PUBLISHERS,
             WINDOW, CLIENT), flush=True)
    failed = False
    ours, edges = run_taho(taho, client_argv) if "taho" in SIDES else (None, complete_graph(NODES))
    theirs = None
    if "js" not in SIDES:
        pass
    elif os.path.isdir(os.path.join(JS_MODULES, "libp2p")):
        try:
            theirs = run_js(edges)
        except RuntimeError as error:
            print("js-libp2p: the run failed: %s" % error)
            failed = True
    else:
        print("js-libp2p: skipped (not installed in %s: run scripts/setup)" % JS_MODULES)

    print()
    print("%-34s %14s %14s" % ("", "taho", "js-libp2p"))
    rows = [("throughput msg/s per subscriber", "throughput", "msgs_per_s", "%.0f"),
            ("throughput deliveries/s (all)", "throughput", "deliveries_per_s", "%.0f"),
            ("throughput delivered fraction", "throughput", None, "%.3f"),
            ("CPU us/delivery, nodes (load)", "throughput", "cpu_us_per_delivery_nodes", "%.0f"),
            ("latency p50 ms (paced)", "latency", "p50_ms", "%.2f"),
            ("latency p99 ms (paced)", "latency", "p99_ms", "%.2f"),
            ("latency p50 ms (under load)", "throughput", "p50_ms", "%.2f"),
            ("latency p99 ms (under load)", "throughput", "p99_ms", "%.2f")]
    for title, phase, key, fmt in rows:
        def value(result):
            if result is None:
                return "-"
            figures = result[phase]
            v = figures["deliveries"] / figures["deliveries_expected"] if key is None else figures[key]
            return fmt % v
        print("%-34s %14s %14s" % (title, value(ours), value(theirs)))
    summary = {"config": {"nodes": NODES, "min_peers": MIN_PEERS, "size": SIZE, "lat_count": LAT_COUNT,
                          "lat_rate": LAT_RATE, "tput_count": TPUT_COUNT, "publishers": PUBLISHERS, "window": WINDOW,
                          "cores": os.cpu_count(), "taho_client": CLIENT, "load_average_start": load_start,
                          "load_average_end": os.getloadavg()[0],
                          "edges": edges},
               "taho": ours, "js": theirs}
    if ours is not None and theirs is not None:
        throughput_ratio = ours["throughput"]["msgs_per_s"] / theirs["throughput"]["msgs_per_s"]
        p99_ratio = theirs["latency"]["p99_ms"] / ours["latency"]["p99_ms"]
        p99_load_ratio = theirs["throughput"]["p99_ms"] / ours["throughput"]["p99_ms"]
        print("throughput taho/js: %.2fx  (target >= 10x: %s)" % (throughput_ratio, verdict(throughput_ratio >= 10)))
        print("p99 js/taho, paced: %.2fx  (target >= 5x: %s)" % (p99_ratio, verdict(p99_ratio >= 5)))
        print("p99 js/taho, under load: %.2fx" % p99_load_ratio)
        cpu_ratio = (theirs["throughput"]["cpu_us_per_delivery_nodes"]
                     / max(1e-9, ours["throughput"]["cpu_us_per_delivery_nodes"]))
        print("CPU per delivered message js/taho (nodes only, throughput phase): %.2fx" % cpu_ratio)
        print("  (taho's API clients, separate node processes, used %.0f us/delivery more)"
              % ours["throughput"]["cpu_us_per_delivery_apps"])
        summary["ratios"] = {"throughput_taho_over_js": throughput_ratio, "p99_js_over_taho": p99_ratio,
                             "p99_under_load_js_over_taho": p99_load_ratio, "cpu_per_delivery_js_over_taho": cpu_ratio,
                             "throughput_target_met": throughput_ratio >= 10, "p99_target_met": p99_ratio >= 5}
    with open(RESULTS, "w") as f:
        json.dump(without_nan(summary), f, indent=1)
    print("(%.0f s; results in %s)" % (time.monotonic() - started, RESULTS))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
