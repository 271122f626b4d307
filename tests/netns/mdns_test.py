"""mDNS on a real LAN: five taho daemons and one js-libp2p peer, each in its
own network namespace on one bridge, find each other with no configuration
(no bootstrap, no connect): every daemon has at least 4 taho peers connected
within 10 s, the js peer's @libp2p/mdns hears all five daemons, and they hear
it and connect to it. Needs root (exit 77 = skipped otherwise)."""
import json
import os
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop" / "js"))

from netns_harness import NetnsLab, require_netns  # noqa: E402
from js_peer import JsPeer, PEER_SCRIPT, node_modules_missing  # noqa: E402

TAHO = os.environ.get("TAHO_BIN", "taho")
DAEMONS = 5
DEADLINE_S = 10.0
API_LISTEN = "127.0.0.1:9481"  # each namespace has its own loopback


class MdnsNetnsTest(unittest.TestCase):
    def setUp(self):
        self.lab = NetnsLab(DAEMONS + 1)
        self.lab.__enter__()
        self.addCleanup(self.lab.close)
        self.homes = [tempfile.mkdtemp(prefix="taho-netns-") for _ in range(DAEMONS)]
        for home in self.homes:
            self.addCleanup(shutil.rmtree, home, True)

    def env(self, index):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        env["TAHO_HOME"] = self.homes[index]
        return env

    def start_daemon(self, index):
        log = open(os.path.join(self.homes[index], "daemon.log"), "w")
        self.addCleanup(log.close)
        return self.lab.popen(index, [TAHO, "daemon", "-v", "--api-listen", API_LISTEN, "--json"],
                              env=self.env(index), stdout=subprocess.PIPE, stderr=log, text=True)

    def daemon_logs(self):
        logs = []
        for index, home in enumerate(self.homes):
            with open(os.path.join(home, "daemon.log")) as f:
                logs.append("--- daemon %d (%s)\n%s" % (index, self.lab.address(index), f.read()[-3000:]))
        return "\n".join(logs)

    def peers(self, index):
        result = self.lab.run(index, [TAHO, "peers", "--json"], env=self.env(index))
        if result.returncode != 0:
            return set()
        return {row["peer_id"] for row in json.loads(result.stdout)}

    def test_daemons_and_js_find_each_other(self):
        try:
            self.check_daemons_and_js_find_each_other()
        except BaseException:
            print(self.daemon_logs(), file=sys.stderr)
            raise

    def check_daemons_and_js_find_each_other(self):
        js_missing = node_modules_missing()
        started = time.monotonic()
        daemons = [self.start_daemon(i) for i in range(DAEMONS)]
        js = None
        if not js_missing:
            process = self.lab.popen(DAEMONS, ["node", str(PEER_SCRIPT), "--mdns", "--listen", "/ip4/0.0.0.0/tcp/0"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     bufsize=1, cwd=PEER_SCRIPT.parent, env={**os.environ, "NODE_NO_WARNINGS": "1"})
            js = JsPeer(process, "js")
        ids = []
        for index, daemon in enumerate(daemons):
            line = daemon.stdout.readline()
            if not line:
                self.fail("daemon %d exited\n%s" % (index, self.daemon_logs()))
            ids.append(json.loads(line)["peer_id"])
        ready_at = time.monotonic() - started

        # 1. Every daemon connects to at least 4 of the other taho daemons.
        found_at = {}
        deadline = started + DEADLINE_S
        while time.monotonic() < deadline and len(found_at) < DAEMONS:
            for index in range(DAEMONS):
                if index in found_at:
                    continue
                taho_peers = self.peers(index) & set(ids)
                if len(taho_peers) >= DAEMONS - 1:
                    found_at[index] = time.monotonic() - started
            time.sleep(0.1)
        for index in range(DAEMONS):
            self.assertIn(index, found_at, "daemon %d (%s) has only %s" % (index, ids[index], self.peers(index)))
        print("daemons ready after %.2f s; each had %d taho peers connected after %s s (slowest %.2f s)" %
              (ready_at, DAEMONS - 1, ", ".join("%.2f" % found_at[i] for i in range(DAEMONS)),
               max(found_at.values())))

        if js is None:
            print("js part skipped: " + js_missing)
            return
        # 2. js-libp2p's mDNS hears all five daemons ...
        ready = js.wait_event(lambda line: line.get("event") in ("ready", "error"), timeout=30)
        self.assertEqual(ready.get("event"), "ready", ready)
        js.peer_id = ready["peer_id"]
        heard = {}
        for peer_id in ids:
            event = js.wait_event(lambda line, p=peer_id: line.get("event") == "peer:discovery" and line["peer"] == p,
                                  timeout=max(1.0, started + DEADLINE_S - time.monotonic()))
            heard[peer_id] = time.monotonic() - started
            self.assertTrue(any(addr.startswith("/ip4/10.77.0.") for addr in event["addrs"]), event)
        # ... and the daemons hear js and connect to it (js never dials). js
        # may still be starting when they do, before it reports connection
        # events, so ask both sides who is connected.
        deadline = started + DEADLINE_S
        holders = set()
        while time.monotonic() < deadline and len(holders) < DAEMONS:
            holders = {i for i in range(DAEMONS) if js.peer_id in self.peers(i)}
            time.sleep(0.1)
        self.assertTrue(holders, "no daemon connected to the js peer")
        connected_at = time.monotonic() - started
        js_side = js.expect({"cmd": "peers"})["peers"]
        taho_conns = [p for p in js_side if p["peer"] in ids]
        self.assertTrue(taho_conns, js_side)
        self.assertTrue(all(any(a.startswith("/ip4/10.77.0.") for a in p["addrs"]) for p in taho_conns), js_side)
        print("js heard all daemons after %.2f s; %d of %d daemons connected to js after %.2f s" %
              (max(heard.values()), len(holders), DAEMONS, connected_at))
        js.stop()


if __name__ == "__main__":
    require_netns()
    unittest.main()
