"""Transport fallback on a real LAN of network namespaces: a node whose
namespace drops every UDP packet (nftables) still connects to a peer that
offers QUIC and TCP: QUIC goes first, TCP starts transport_fallback_delay
later and wins within a bounded time, and `taho peers` says tcp; a node
without the block, dialing the same peer the same way, uses QUIC. Needs
root and nft (exit 77 = skipped otherwise)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from netns_harness import NetnsLab, require_netns  # noqa: E402

TAHO = os.environ.get("TAHO_BIN", "taho")
API_LISTEN = "127.0.0.1:9481"  # each namespace has its own loopback
DEADLINE_S = 5.0  # QUIC's handshake alone would take 10 s to give up


class UdpBlockedTest(unittest.TestCase):
    SERVER, BLOCKED, OPEN = 0, 1, 2

    def setUp(self):
        self.lab = NetnsLab(3)
        self.lab.__enter__()
        self.addCleanup(self.lab.close)
        self.homes = [tempfile.mkdtemp(prefix="taho-netns-udp-") for _ in range(3)]
        for home in self.homes:
            self.addCleanup(shutil.rmtree, home, True)

    def env(self, index, bootstrap=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        env["TAHO_HOME"] = self.homes[index]
        env["TAHO__MESH__MDNS"] = "false"
        if bootstrap:
            env["TAHO__MESH__BOOTSTRAP"] = ",".join(bootstrap)
        return env

    def start(self, index, bootstrap=None):
        log = open(os.path.join(self.homes[index], "daemon.log"), "w")
        self.addCleanup(log.close)
        address = self.lab.address(index)
        process = self.lab.popen(index, [TAHO, "daemon", "-v", "--api-listen", API_LISTEN, "--json",
                                         "--listen", "/ip4/%s/tcp/4001" % address,
                                         "--listen", "/ip4/%s/udp/4001/quic-v1" % address],
                                 env=self.env(index, bootstrap), stdout=subprocess.PIPE, stderr=log, text=True)
        line = process.stdout.readline()
        if not line:
            self.fail("daemon %d did not start:\n%s" % (index, self.logs()))
        return json.loads(line)["peer_id"]

    def peers(self, index):
        result = self.lab.run(index, [TAHO, "peers", "--json"], env=self.env(index))
        return json.loads(result.stdout) if result.returncode == 0 else []

    def logs(self):
        text = []
        for index, home in enumerate(self.homes):
            path = os.path.join(home, "daemon.log")
            if os.path.exists(path):
                with open(path) as f:
                    text.append("--- daemon %d\n%s" % (index, f.read()[-3000:]))
        return "\n".join(text)

    def wait_for_peer(self, index, peer, started):
        while time.monotonic() - started < DEADLINE_S:
            row = next((p for p in self.peers(index) if p["peer_id"] == peer), None)
            if row:
                return row, time.monotonic() - started
            time.sleep(0.05)
        self.fail("daemon %d did not connect to %s within %ss\n%s" % (index, peer, DEADLINE_S, self.logs()))

    def test_tcp_takes_over_when_udp_is_dropped(self):
        block = self.lab.run(self.BLOCKED, ["sh", "-c",
                                            "nft add table inet filter && "
                                            "nft add chain inet filter input '{ type filter hook input priority 0 ; }' && "
                                            "nft add rule inet filter input meta l4proto udp drop"])
        self.assertEqual(block.returncode, 0, block.stderr)

        server = self.start(self.SERVER)
        address = self.lab.address(self.SERVER)
        # The peer's two addresses, as a bootstrap list (or discovery) gives them.
        bootstrap = ["/ip4/%s/udp/4001/quic-v1/p2p/%s" % (address, server),
                     "/ip4/%s/tcp/4001/p2p/%s" % (address, server)]

        started = time.monotonic()
        self.start(self.BLOCKED, bootstrap)
        row, took = self.wait_for_peer(self.BLOCKED, server, started)
        self.assertEqual(row["transport"], "tcp", row)
        print("UDP blocked: connected over tcp in %.2f s" % took, file=sys.stderr)

        started = time.monotonic()
        self.start(self.OPEN, bootstrap)
        row, took = self.wait_for_peer(self.OPEN, server, started)
        self.assertEqual(row["transport"], "quic", row)
        print("UDP open: connected over quic in %.2f s" % took, file=sys.stderr)

        # The blocked node's QUIC really is dead, its TCP alive.
        env = self.env(self.BLOCKED)
        tcp = self.lab.run(self.BLOCKED, [TAHO, "ping", server, "--transport", "tcp", "-n", "1", "--json"], env=env)
        self.assertEqual(tcp.returncode, 0, tcp.stderr)
        self.assertEqual(json.loads(tcp.stdout)["transport"], "tcp")
        quic = self.lab.run(self.BLOCKED, [TAHO, "ping", "/ip4/%s/udp/4001/quic-v1/p2p/%s" % (address, server),
                                           "-n", "1"], env=env, timeout=60)
        self.assertNotEqual(quic.returncode, 0)


if __name__ == "__main__":
    require_netns()
    unittest.main()
