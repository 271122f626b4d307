"""AutoNAT behind a real NAT made of network namespaces: three daemons on a
public bridge and one on a private LAN behind a router that masquerades
(nftables) and drops new inbound connections. With the default
`[mesh] dht_server = "auto"`, the public daemons verify each other by
dial-back and become DHT servers; the NATed one hears E_DIAL_ERROR from
three distinct servers, becomes private and a DHT client (it does not
announce the kad protocol, so no public routing table takes it), and can
still look peers up. Needs root and nft (exit 77 = skipped otherwise)."""
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
DEADLINE_S = 60.0
KAD = "/taho/kad/1.0.0"


class NatLab:
    """Public 10.79.0.0/24 (bridge) with `public` hosts and the router's WAN
    leg (10.79.0.1); private 10.79.1.0/24 (bridge) with one host and the
    router's LAN leg (10.79.1.1). The router masquerades LAN traffic going
    out of its WAN leg and drops new connections coming in on it."""

    def __init__(self, public: int):
        self.tag = secrets.token_hex(3)
        self.bridges = {"wan": "tb%sw" % self.tag, "lan": "tb%sl" % self.tag}
        self.router = "taho-%s-nat" % self.tag
        self.hosts = ["taho-%s-p%d" % (self.tag, i) for i in range(public)] + ["taho-%s-priv" % self.tag]
        self.links = []
        self.processes = []

    @property
    def private_index(self):
        return len(self.hosts) - 1

    def address(self, index):
        if index == self.private_index:
            return "10.79.1.10"
        return "10.79.0.%d" % (index + 10)

    def _leg(self, namespace, side, address, name):
        host_end = "tv%s%s" % (self.tag, name)
        self.links.append(host_end)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", side, "netns", namespace)
        _ip("link", "set", host_end, "master", self.bridges[side])
        _ip("link", "set", host_end, "up")
        _ip("-n", namespace, "addr", "add", address + "/24", "dev", side)
        _ip("-n", namespace, "link", "set", side, "up")

    def exec(self, namespace, *command):
        result = subprocess.run(["ip", "netns", "exec", namespace, *command], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(command), result.stderr.strip()))

    def create(self):
        for bridge in self.bridges.values():
            _ip("link", "add", bridge, "type", "bridge")
            _ip("link", "set", bridge, "up")
        _ip("netns", "add", self.router)
        _ip("-n", self.router, "link", "set", "lo", "up")
        self._leg(self.router, "wan", "10.79.0.1", "rw")
        self._leg(self.router, "lan", "10.79.1.1", "rl")
        self.exec(self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        rules = (
            "table ip nat {\n"
            "  chain postrouting { type nat hook postrouting priority 100; oifname \"wan\" masquerade; }\n"
            "}\n"
            "table ip filter {\n"
            "  chain forward { type filter hook forward priority 0; policy drop;\n"
            "    ct state established,related accept\n"
            "    iifname \"lan\" oifname \"wan\" accept\n"
            "  }\n"
            "}\n")
        applied = subprocess.run(["ip", "netns", "exec", self.router, "nft", "-f", "-"], input=rules,
                                 capture_output=True, text=True)
        if applied.returncode != 0:
            raise RuntimeError("nft: " + applied.stderr.strip())
        for index, namespace in enumerate(self.hosts):
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
            if index == self.private_index:
                self._leg(namespace, "lan", self.address(index), "h%d" % index)
                _ip("-n", namespace, "route", "add", "default", "via", "10.79.1.1")
            else:
                # Public hosts have no route into the private LAN: only the NAT's address.
                self._leg(namespace, "wan", self.address(index), "h%d" % index)

    def popen(self, index, command, **kwargs):
        process = subprocess.Popen(["ip", "netns", "exec", self.hosts[index], *command], **kwargs)
        self.processes.append(process)
        return process

    def run(self, index, command, timeout=90, **kwargs):
        return subprocess.run(["ip", "netns", "exec", self.hosts[index], *command], capture_output=True,
                              text=True, timeout=timeout, **kwargs)

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout:
                process.stdout.close()
        for namespace in [self.router] + self.hosts:
            for pid in subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split():
                subprocess.run(["kill", "-9", pid], capture_output=True)
            _ip("netns", "del", namespace, check=False)
        for link in self.links:
            _ip("link", "del", link, check=False)
        for bridge in self.bridges.values():
            _ip("link", "del", bridge, check=False)


class NatTest(unittest.TestCase):
    PUBLIC = 3  # a private verdict needs three distinct servers

    def setUp(self):
        if shutil.which("nft") is None:
            self.fail("nft (nftables) is not installed: scripts/setup installs it")
        self.lab = NatLab(self.PUBLIC)
        self.addCleanup(self.lab.close)
        self.lab.create()
        self.homes = [tempfile.mkdtemp(prefix="taho-nat-") for _ in self.lab.hosts]
        for home in self.homes:
            self.addCleanup(shutil.rmtree, home, True)

    def env(self, index, bootstrap=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        env["TAHO_HOME"] = self.homes[index]
        env["TAHO__MESH__MDNS"] = "false"  # only the bootstrap node introduces peers
        if bootstrap:
            env["TAHO__FABRIC__BOOTSTRAP"] = bootstrap
        return env

    def start(self, index, bootstrap=None):
        process = self.lab.popen(index, [TAHO, "daemon", "--api-listen", API_LISTEN, "--json"],
                                 env=self.env(index, bootstrap), stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        return json.loads(process.stdout.readline())["peer_id"]

    def cli(self, index, *args):
        result = self.lab.run(index, [TAHO, *args, "--json"], env=self.env(index))
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)

    def wait_for(self, predicate, what, describe=None):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.5)
        self.fail("timed out waiting for " + what + ("; " + describe() if describe else ""))

    def describe(self, indexes):
        """What each daemon says of itself and its peers, for a failure message."""
        lines = []
        for i in indexes:
            lines.append("daemon %d: mesh %s\n  dht %s\n  peers %s" % (
                i, json.dumps(self.cli(i, "mesh")), json.dumps(self.cli(i, "dht", "stats")),
                json.dumps(self.cli(i, "peers"))))
        return "\n".join(lines)

    def test_public_nodes_serve_the_dht_and_the_natted_one_is_a_client(self):
        started = time.monotonic()
        ids = {0: self.start(0)}
        boot = "/ip4/%s/tcp/4001/p2p/%s" % (self.lab.address(0), ids[0])
        for index in range(1, len(self.lab.hosts)):
            ids[index] = self.start(index, boot)
        private = self.lab.private_index
        public = [i for i in range(len(self.lab.hosts)) if i != private]

        def mesh(index):
            return self.cli(index, "mesh") or {}

        self.wait_for(lambda: all(mesh(i).get("reachability") == "public" and mesh(i).get("dht_mode") == "server"
                                  for i in public), "public daemons to become public DHT servers",
                      lambda: self.describe(range(len(self.lab.hosts))))
        public_at = time.monotonic() - started
        self.wait_for(lambda: mesh(private).get("reachability") == "private", "the NATed daemon to become private")
        private_at = time.monotonic() - started
        hidden = mesh(private)
        self.assertEqual(hidden["dht_mode"], "client", hidden)
        self.assertFalse(hidden["rendezvous_point"], hidden)
        self.assertNotIn(KAD, hidden["advertised_protocols"])
        self.assertEqual(hidden["autonat"]["last_status"], "E_DIAL_ERROR", hidden)
        for i in public:
            shown = mesh(i)
            self.assertIn(KAD, shown["advertised_protocols"])
            self.assertTrue(shown["rendezvous_point"], shown)

        # No public routing table holds the client: each has the other two servers only.
        self.wait_for(lambda: all((self.cli(i, "dht", "stats") or {}).get("routing_table_peers") == len(public) - 1
                                  for i in public), "public routing tables to hold exactly the public servers",
                      lambda: self.describe(range(len(self.lab.hosts))))
        # The client still asks: find a public node it was never told about directly.
        located = self.cli(private, "dht", "find-peer", ids[public[-1]])
        self.assertIsNotNone(located, "find-peer from behind the NAT failed")
        self.assertEqual(located["peer_id"], ids[public[-1]])
        self.assertTrue(any(self.lab.address(public[-1]) in addr for addr in located["addrs"]), located)
        stats = self.cli(private, "dht", "stats")
        self.assertEqual(stats["mode"], "client")
        self.assertEqual(stats["reachability"], "private")
        print("public daemons public after %.1f s; NATed daemon private after %.1f s" % (public_at, private_at))


if __name__ == "__main__":
    require_netns()
    unittest.main()
