"""Two taho daemons over QUIC on loopback: listen and report /quic-v1
addresses, connect, `taho peers` shows quic, `taho ping --transport
quic|tcp` picks the connection, bootstrap over QUIC, and clear errors."""
import json
import shutil
import subprocess
import tempfile
import time
import unittest
import warnings

from taho_harness import TahoTestCase, clean_env, TAHO

QUIC = "/ip4/127.0.0.1/udp/0/quic-v1"
TCP = "/ip4/127.0.0.1/tcp/0"


def quic_addrs(addrs):
    return [a for a in addrs if "/quic-v1/" in a]


def tcp_addrs(addrs):
    return [a for a in addrs if "/tcp/" in a and "/ws" not in a]


class QuicTest(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        super().setUp()
        self.daemon = self.start_daemon("--listen", TCP, "--listen", QUIC)
        self.other_home = tempfile.mkdtemp(prefix="taho-other-")
        self.addCleanup(shutil.rmtree, self.other_home, True)
        self.other_env = clean_env(self.other_home)
        self.other = self.start_other(self.other_env, "--listen", TCP, "--listen", QUIC)
        info = json.loads(self.taho("id", "--json", env=self.other_env).stdout)
        self.other_peer = info["peer_id"]
        self.other_quic = quic_addrs(info["addrs"])[0]
        self.other_tcp = tcp_addrs(info["addrs"])[0]

    def start_other(self, env, *listen):
        process = subprocess.Popen([TAHO, "daemon", "--api-listen", "127.0.0.1:0", *listen, "--json"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.daemons.append(process)
        line = process.stdout.readline()
        if not line:
            self.fail("daemon did not start: " + process.stderr.read())
        return process

    def peers(self, env=None):
        return json.loads(self.taho("peers", "--json", env=env).stdout)

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail("not within %ss: %s" % (timeout, what))

    def test_id_reports_the_quic_listen_address(self):
        info = json.loads(self.taho("id", "--json").stdout)
        quic = quic_addrs(info["addrs"])
        self.assertEqual(len(quic), 1, info["addrs"])
        self.assertRegex(quic[0], r"^/ip4/127\.0\.0\.1/udp/[1-9][0-9]*/quic-v1/p2p/" + info["peer_id"] + "$")
        self.assertEqual(len(tcp_addrs(info["addrs"])), 1)

    def test_connect_over_quic_shows_in_peers_and_pings(self):
        result = self.taho("connect", self.other_quic)
        self.assertEqual(result.returncode, 0, result.stderr)
        peers = self.peers()
        self.assertEqual([p["peer_id"] for p in peers], [self.other_peer])
        self.assertEqual(peers[0]["transport"], "quic")
        self.assertEqual(peers[0]["direction"], "outbound")
        self.assertIn("/udp/", peers[0]["addr"])
        # Identify ran over a QUIC stream: agent and protocols are known.
        self.wait_for(lambda: self.peers()[0]["agent"].startswith("taho/"), 10, "identify over QUIC")
        self.assertIn("/ipfs/ping/1.0.0", self.peers()[0]["protocols"])
        theirs = self.peers(env=self.other_env)
        self.assertEqual(theirs[0]["transport"], "quic")
        self.assertEqual(theirs[0]["direction"], "inbound")

        ping = self.taho("ping", self.other_peer, "--transport", "quic", "-n", "3", "-i", "0.05")
        self.assertEqual(ping.returncode, 0, ping.stderr)
        self.assertEqual(ping.stdout.count("pong from %s via quic" % self.other_peer), 3, ping.stdout)
        self.assertIn("3 sent, 3 received, 0% loss", ping.stdout)

    def test_ping_transport_picks_or_makes_the_connection(self):
        # By QUIC address: connects over QUIC and pings over it.
        as_json = json.loads(self.taho("ping", self.other_quic, "-n", "2", "-i", "0", "--json").stdout)
        self.assertEqual(as_json["received"], 2)
        self.assertEqual(as_json["transport"], "quic")
        # --transport tcp with only a QUIC connection: a TCP connection is made
        # from the address identify taught us, and the ping runs over it.
        as_json = json.loads(self.taho("ping", self.other_peer, "--transport", "tcp", "-n", "2", "-i", "0",
                                       "--json").stdout)
        self.assertEqual(as_json["received"], 2, as_json)
        self.assertEqual(as_json["transport"], "tcp")
        self.assertEqual(sorted(p["transport"] for p in self.peers()), ["quic", "tcp"])
        # Both stay usable, each by its name.
        for transport in ("quic", "tcp"):
            as_json = json.loads(self.taho("ping", self.other_peer, "--transport", transport, "-n", "1",
                                           "--json").stdout)
            self.assertEqual(as_json["transport"], transport)
            self.assertEqual(as_json["received"], 1)

    def test_bootstrap_over_quic(self):
        home = tempfile.mkdtemp(prefix="taho-third-")
        self.addCleanup(shutil.rmtree, home, True)
        env = clean_env(home)
        env["TAHO__MESH__BOOTSTRAP"] = self.other_quic
        self.start_other(env, "--listen", QUIC)
        self.wait_for(lambda: any(p["peer_id"] == self.other_peer for p in self.peers(env=env)), 15,
                      "the bootstrap peer connected")
        row = [p for p in self.peers(env=env) if p["peer_id"] == self.other_peer][0]
        self.assertEqual(row["transport"], "quic")
        self.assertEqual(row["source"], "bootstrap")

    def test_clear_errors(self):
        # The QUIC handshake proves the peer: a wrong /p2p/ id is refused.
        wrong = self.other_quic.rsplit("/p2p/", 1)[0] + "/p2p/" + json.loads(self.taho("id", "--json").stdout)["peer_id"]
        result = self.taho("connect", wrong)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("cannot connect", result.stderr)
        # Nobody listens there: the dial fails within the handshake timeout.
        result = self.taho("ping", "/ip4/127.0.0.1/udp/9/quic-v1/p2p/" + self.other_peer, "-n", "1", timeout=60)
        self.assertEqual(result.returncode, 1)
        result = self.taho("ping", self.other_peer, "--transport", "carrier-pigeon", "-n", "1")
        self.assertEqual(result.returncode, 2, result.stderr)
        # An address of one transport with --transport of another is a usage error.
        result = self.taho("ping", self.other_tcp, "--transport", "quic", "-n", "1")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not quic", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
