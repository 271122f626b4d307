"""Two LANs joined by a router, with no multicast across it: nodes on the
far LAN find the near LAN's nodes only through the bootstrap node given in
TAHO__FABRIC__BOOTSTRAP (its DHT answers and rendezvous registrations),
while nodes on one LAN also find each other by mDNS. Needs root (exit 77 =
skipped otherwise)."""
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from netns_harness import _ip, require_netns  # noqa: E402

TAHO = os.environ.get("TAHO_BIN", "taho")
API_LISTEN = "127.0.0.1:9481"  # each namespace has its own loopback
DEADLINE_S = 20.0


class TwoLans:
    """LAN 1 (10.78.1.0/24) and LAN 2 (10.78.2.0/24), each a bridge, and a
    router namespace with a leg on each forwarding between them."""

    def __init__(self, per_lan: int):
        self.tag = secrets.token_hex(3)
        self.bridges = ["tb%s%d" % (self.tag, lan) for lan in (1, 2)]
        self.router = "taho-%s-r" % self.tag
        # (namespace, lan, host index)
        self.hosts = [("taho-%s-%d-%d" % (self.tag, lan, i), lan, i) for lan in (1, 2) for i in range(per_lan)]
        self.links = []
        self.processes = []

    def address(self, index):
        _, lan, i = self.hosts[index]
        return "10.78.%d.%d" % (lan, i + 10)

    def _leg(self, namespace, lan, address, name):
        host_end = "tv%s%s" % (self.tag, name)
        self.links.append(host_end)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", "lan%d" % lan, "netns", namespace)
        _ip("link", "set", host_end, "master", self.bridges[lan - 1])
        _ip("link", "set", host_end, "up")
        _ip("-n", namespace, "addr", "add", address + "/24", "dev", "lan%d" % lan)
        _ip("-n", namespace, "link", "set", "lan%d" % lan, "up")

    def create(self):
        for bridge in self.bridges:
            _ip("link", "add", bridge, "type", "bridge")
            _ip("link", "set", bridge, "up")
        _ip("netns", "add", self.router)
        _ip("-n", self.router, "link", "set", "lo", "up")
        for lan in (1, 2):
            self._leg(self.router, lan, "10.78.%d.1" % lan, "r%d" % lan)
        subprocess.run(["ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
        for index, (namespace, lan, i) in enumerate(self.hosts):
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
            self._leg(namespace, lan, self.address(index), "%d%d" % (lan, i))
            _ip("-n", namespace, "route", "add", "224.0.0.0/4", "dev", "lan%d" % lan)
            _ip("-n", namespace, "route", "add", "default", "via", "10.78.%d.1" % lan)

    def popen(self, index, command, **kwargs):
        process = subprocess.Popen(["ip", "netns", "exec", self.hosts[index][0], *command], **kwargs)
        self.processes.append(process)
        return process

    def run(self, index, command, **kwargs):
        return subprocess.run(["ip", "netns", "exec", self.hosts[index][0], *command], capture_output=True,
                              text=True, timeout=30, **kwargs)

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout:
                process.stdout.close()
        for namespace in [self.router] + [host[0] for host in self.hosts]:
            for pid in subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split():
                subprocess.run(["kill", "-9", pid], capture_output=True)
            _ip("netns", "del", namespace, check=False)
        for link in self.links:
            _ip("link", "del", link, check=False)
        for bridge in self.bridges:
            _ip("link", "del", bridge, check=False)


class TwoLansTest(unittest.TestCase):
    PER_LAN = 2

    def setUp(self):
        self.lans = TwoLans(self.PER_LAN)
        self.addCleanup(self.lans.close)
        self.lans.create()
        self.homes = [tempfile.mkdtemp(prefix="taho-lans-") for _ in self.lans.hosts]
        for home in self.homes:
            self.addCleanup(shutil.rmtree, home, True)

    def env(self, index, bootstrap=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        env["TAHO_HOME"] = self.homes[index]
        if bootstrap:
            env["TAHO__FABRIC__BOOTSTRAP"] = bootstrap
        return env

    def peers(self, index):
        result = self.lans.run(index, [TAHO, "peers", "--json"], env=self.env(index))
        if result.returncode != 0:
            return {}
        return {row["peer_id"]: row["source"] for row in json.loads(result.stdout)}

    def test_far_lan_meets_near_lan_through_the_bootstrap_node(self):
        started = time.monotonic()
        # Host 0 (LAN 1) is the bootstrap node; everyone else names it.
        boot = self.lans.popen(0, [TAHO, "daemon", "--api-listen", API_LISTEN, "--json"], env=self.env(0),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        boot_id = json.loads(boot.stdout.readline())["peer_id"]
        boot_addr = "/ip4/%s/tcp/4001/p2p/%s" % (self.lans.address(0), boot_id)
        ids = {0: boot_id}
        for index in range(1, len(self.lans.hosts)):
            process = self.lans.popen(index, [TAHO, "daemon", "--api-listen", API_LISTEN, "--json"],
                                      env=self.env(index, boot_addr), stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
            ids[index] = json.loads(process.stdout.readline())["peer_id"]
        near = [i for i, host in enumerate(self.lans.hosts) if host[1] == 1]
        far = [i for i, host in enumerate(self.lans.hosts) if host[1] == 2]

        # Every far node connects to every near node that is not the
        # bootstrap node: mDNS cannot have told it, only the bootstrap node.
        deadline = started + DEADLINE_S
        met_at = None
        while time.monotonic() < deadline:
            if all(ids[n] in self.peers(f) or ids[f] in self.peers(n) for f in far for n in near if n != 0):
                met_at = time.monotonic() - started
                break
            time.sleep(0.2)
        self.assertIsNotNone(met_at, "far nodes did not meet near nodes (ids %s): %s" % (ids,
                             {f: self.peers(f) for f in far}))
        for f in far:
            sources = self.peers(f)
            self.assertEqual(sources.get(boot_id), "bootstrap", sources)
            for n in near:
                if n != 0 and ids[n] in sources:
                    self.assertIn(sources[ids[n]], ("dht", "rendezvous", "inbound"), sources)
        # On one LAN, mDNS still does its part.
        far_sources = self.peers(far[0])
        print("far LAN met near LAN through the bootstrap node after %.2f s; sources at %s: %s" %
              (met_at, self.lans.address(far[0]), sorted(set(far_sources.values()))))


if __name__ == "__main__":
    require_netns()
    unittest.main()
