"""Two taho daemons on loopback: connect, peers, ping, disconnect from the
CLI, and a daemon that keeps serving while hostile clients misbehave."""
import json
import socket
import subprocess
import tempfile
import shutil
import time
import unittest
import warnings

from taho_harness import TahoTestCase, clean_env, TAHO


class NetworkTest(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        super().setUp()
        self.daemon = self.start_daemon("--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/tcp/0/ws")
        # A second node in its own home.
        self.other_home = tempfile.mkdtemp(prefix="taho-other-")
        self.addCleanup(shutil.rmtree, self.other_home, True)
        self.other_env = clean_env(self.other_home)
        self.other = subprocess.Popen([TAHO, "daemon", "--api-listen", "127.0.0.1:0", "--listen",
                                       "/ip4/127.0.0.1/tcp/0", "--json"], env=self.other_env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.daemons.append(self.other)
        ready = json.loads(self.other.stdout.readline())
        self.other_peer = ready["peer_id"]
        info = json.loads(self.taho("id", "--json", env=self.other_env).stdout)
        self.other_addr = info["addrs"][0]

    def test_id_reports_real_listen_addresses(self):
        info = json.loads(self.taho("id", "--json").stdout)
        self.assertEqual(len(info["addrs"]), 2)
        for addr in info["addrs"]:
            self.assertTrue(addr.startswith("/ip4/127.0.0.1/tcp/"), addr)
            self.assertTrue(addr.endswith("/p2p/" + info["peer_id"]), addr)
            self.assertNotIn("/tcp/0/", addr, "the real port, not 0")

    def test_connect_peers_ping_disconnect(self):
        result = self.taho("connect", self.other_addr)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(self.other_peer, result.stdout)
        peers = json.loads(self.taho("peers", "--json").stdout)
        self.assertEqual([p["peer_id"] for p in peers], [self.other_peer])
        self.assertEqual(peers[0]["transport"], "tcp")
        self.assertEqual(peers[0]["direction"], "outbound")
        self.assertEqual(peers[0]["agent"], "taho/0.1.0")
        # The other side sees us inbound.
        theirs = json.loads(self.taho("peers", "--json", env=self.other_env).stdout)
        self.assertEqual(theirs[0]["direction"], "inbound")

        ping = self.taho("ping", self.other_peer, "-n", "3", "-i", "0.05")
        self.assertEqual(ping.returncode, 0, ping.stderr)
        self.assertEqual(ping.stdout.count("pong from " + self.other_peer), 3)
        self.assertIn("3 sent, 3 received, 0% loss", ping.stdout)
        as_json = json.loads(self.taho("ping", self.other_addr, "-n", "2", "-i", "0", "--json").stdout)
        self.assertEqual(as_json["received"], 2)
        self.assertTrue(all(r > 0 for r in as_json["rtts_ms"]))

        result = self.taho("disconnect", self.other_peer)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(self.taho("peers", "--json").stdout), [])

    def test_websocket_connection(self):
        ws = [a for a in json.loads(self.taho("id", "--json").stdout)["addrs"] if "/ws/" in a][0]
        result = self.taho("connect", ws, env=self.other_env)
        self.assertEqual(result.returncode, 0, result.stderr)
        peers = json.loads(self.taho("peers", "--json", env=self.other_env).stdout)
        self.assertEqual(peers[0]["transport"], "ws")

    def test_clear_errors(self):
        result = self.taho("connect", "/ip4/127.0.0.1/tcp/1/p2p/" + self.other_peer)
        self.assertEqual(result.returncode, 1)
        self.assertIn("connection refused", result.stderr)
        result = self.taho("connect", "/ip4/not-an-ip/tcp/1")
        self.assertEqual(result.returncode, 2)
        self.assertIn("bad multiaddr", result.stderr)
        result = self.taho("ping", self.other_peer, "-n", "1")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not connected", result.stdout + result.stderr)
        result = self.taho("disconnect", "not-a-peer-id")
        self.assertEqual(result.returncode, 2)
        # The wrong peer id at a real address: Noise refuses the impostor.
        me = json.loads(self.taho("id", "--json").stdout)["peer_id"]
        wrong = self.other_addr.rsplit("/p2p/", 1)[0] + "/p2p/" + me
        result = self.taho("connect", wrong)
        self.assertEqual(result.returncode, 1)
        self.assertIn("this node's own peer id", result.stderr)

    def test_bootstrap_peers_are_dialed_at_start(self):
        home = tempfile.mkdtemp(prefix="taho-boot-")
        self.addCleanup(shutil.rmtree, home, True)
        env = clean_env(home)
        env["TAHO__FABRIC__BOOTSTRAP"] = self.other_addr  # the DESIGN.md alias for [mesh] bootstrap
        third = subprocess.Popen([TAHO, "daemon", "--api-listen", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0",
                                  "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.daemons.append(third)
        json.loads(third.stdout.readline())
        deadline = time.monotonic() + 10
        peers = []
        while time.monotonic() < deadline:
            peers = json.loads(self.taho("peers", "--json", env=env).stdout)
            if peers:
                break
            time.sleep(0.1)
        self.assertEqual([p["peer_id"] for p in peers], [self.other_peer])

    def test_commands_without_a_daemon_say_so(self):
        home = tempfile.mkdtemp(prefix="taho-none-")
        self.addCleanup(shutil.rmtree, home, True)
        result = self.taho("peers", env=clean_env(home))
        self.assertEqual(result.returncode, 1)
        self.assertIn("no daemon is running", result.stderr)

    def test_garbage_and_stalled_clients_do_not_hurt_others(self):
        port = int(self.other_addr.split("/tcp/")[1].split("/")[0])
        garbage = []
        for payload in (b"GET / HTTP/1.1\r\n\r\n", b"\x13/multistream/1.0.0\n\x07/noise\n" + b"\x00\x05hello", b"\x00" * 64):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(payload)
            garbage.append(s)
        staller = socket.create_connection(("127.0.0.1", port))  # says nothing at all
        result = self.taho("connect", self.other_addr)
        self.assertEqual(result.returncode, 0, result.stderr)
        ping = self.taho("ping", self.other_peer, "-n", "1")
        self.assertEqual(ping.returncode, 0, ping.stdout + ping.stderr)
        # A Noise message 1 of the wrong length gets the connection closed promptly.
        garbage[1].settimeout(5)
        self.assertEqual(self._drain(garbage[1]), b"")
        for s in garbage:
            s.close()
        # The silent one is dropped when the upgrade timeout (10 s) passes.
        staller.settimeout(15)
        started = time.monotonic()
        self.assertEqual(self._drain(staller), b"")
        self.assertLess(time.monotonic() - started, 14)
        staller.close()
        self.assertIsNone(self.other.poll(), "the daemon is still running")

    @staticmethod
    def _drain(sock):
        """Reads until EOF; returns the last chunk (b'' at EOF)."""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return chunk


if __name__ == "__main__":
    unittest.main()
