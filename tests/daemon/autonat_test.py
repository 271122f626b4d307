"""AutoNAT between daemons on loopback with the default configuration
(`[mesh] dht_server = "auto"`, `rendezvous_server = "auto"`): each asks
the others to dial it back, they can, so every daemon becomes publicly
reachable, a DHT server and a rendezvous point within seconds, announces
the kad protocol, and the DHT works between them."""
import json
import time
import unittest
import warnings

from taho_harness import Node, wait_for

KAD = "/taho/kad/1.0.0"


class AutonatTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)

    def mesh(self, node):
        return json.loads(node.run("mesh", "--json").stdout)

    def test_loopback_daemons_become_public_dht_servers(self):
        boot = Node(self, "boot").start()
        others = [Node(self, "n%d" % i, {"TAHO__MESH__BOOTSTRAP": boot.addr}).start() for i in range(2)]
        nodes = [boot] + others
        started = time.monotonic()
        # Before anyone confirmed us: client mode, kad not announced.
        first = self.mesh(boot)
        self.assertIn(first["reachability"], ("unknown", "public"))
        public = wait_for(lambda: all(self.mesh(node)["reachability"] == "public" for node in nodes), 20,
                          "every daemon is confirmed publicly reachable")
        print("3 daemons public %.1f s after the last start" % (public - started))
        for node in nodes:
            mesh = self.mesh(node)
            self.assertEqual(mesh["dht_mode"], "server", mesh)
            self.assertTrue(mesh["rendezvous_point"], mesh)
            self.assertIn(KAD, mesh["advertised_protocols"])
            self.assertIn("/libp2p/autonat/1.0.0", mesh["advertised_protocols"])
            self.assertGreaterEqual(mesh["autonat"]["probes_answered"], 1, mesh)
            self.assertEqual(mesh["autonat"]["last_status"], "OK", mesh)
            stats = json.loads(node.run("dht", "stats", "--json").stdout)
            self.assertEqual(stats["mode"], "server")
            self.assertEqual(stats["reachability"], "public")
        served = sum(self.mesh(node)["autonat"]["dial_backs_ok"] for node in nodes)
        self.assertGreaterEqual(served, 3)
        # The dial-back connections are gone and the real ones are still there.
        wait_for(lambda: all(len(node.peers()) == len(node.peer_ids()) for node in nodes), 10,
                 "one connection per peer again")
        self.assertIn(boot.peer_id, others[0].peer_ids())
        # Each routing table holds the other two servers, and lookups work.
        wait_for(lambda: all(self.mesh(node)["dht_routing_table"] == 2 for node in nodes), 20,
                 "every routing table holds the two other daemons")
        located = json.loads(others[0].run("dht", "find-peer", others[1].peer_id, "--json").stdout)
        self.assertEqual(located["peer_id"], others[1].peer_id)
        # `taho mesh` shows it to people too.
        text = boot.run("mesh").stdout
        self.assertIn("reachability:    public", text)
        self.assertIn("DHT mode:        server", text)
        self.assertIn("rendezvous point: yes", text)

    def test_forced_modes_stay(self):
        boot = Node(self, "boot", {"TAHO__MESH__DHT_SERVER": "true", "TAHO__MESH__RENDEZVOUS_SERVER": "false"}).start()
        mesh = self.mesh(boot)
        self.assertEqual(mesh["dht_mode"], "server")
        self.assertFalse(mesh["rendezvous_point"])
        self.assertIn(KAD, mesh["advertised_protocols"])
        self.assertNotIn("/rendezvous/1.0.0", mesh["advertised_protocols"])
        shown = boot.run("config").stdout
        self.assertRegex(shown, r'mesh\.dht_server\s+= true')
        self.assertRegex(shown, r'mesh\.rendezvous_server\s+= false')

    def test_config_names_bad_modes(self):
        node = Node(self, "bad", {"TAHO__MESH__DHT_SERVER": "maybe"})
        bad = node.run("config", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn('TAHO__MESH__DHT_SERVER: expected true, false or "auto", got "maybe"', bad.stderr)
        shown = Node(self, "good").run("config").stdout
        self.assertRegex(shown, r'mesh\.dht_server\s+= "auto"\s+\(default\)')


if __name__ == "__main__":
    unittest.main()
