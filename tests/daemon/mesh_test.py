"""Several taho daemons on loopback forming a mesh with no help but one
bootstrap address: the DHT introduces them to each other, the connection
manager keeps min_peers connections and replaces a lost peer, a restarted
node reconnects from its persisted peerstore, events travel over gossipsub
and provider records over the DHT."""
import json
import os
import signal
import subprocess
import time
import unittest
import warnings

from taho_harness import TAHO, Node, wait_for


class MeshTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)

    def test_bootstrap_dht_introductions_events_and_providers(self):
        env = {"TAHO__MESH__MIN_PEERS": "3"}
        # With the default "auto" modes the bootstrap node turns DHT server
        # and rendezvous point at the same moment (once AutoNAT confirms it),
        # and a rendezvous DISCOVER answers before the first DHT refresh: keep
        # this test about DHT introductions by not making it a rendezvous point.
        boot = Node(self, "boot", {**env, "TAHO__MESH__RENDEZVOUS_SERVER": "false"}).start()
        others = [Node(self, "n%d" % i, {**env, "TAHO__FABRIC__BOOTSTRAP": boot.addr}).start() for i in range(3)]
        started = time.monotonic()
        # Each knows only the bootstrap node; the DHT tells them of the others.
        formed = wait_for(lambda: all(len(node.peer_ids()) >= 3 for node in others), 20,
                          "every node has 3 peers")
        print("mesh of 4 formed %.1f s after the last start" % (formed - started))
        sources = {row["peer_id"]: row["source"] for row in others[0].peers()}
        self.assertEqual(sources[boot.peer_id], "bootstrap")
        # The others came through the DHT: we dialed them ("dht") or they
        # dialed us after the DHT named us ("inbound"); who dials first is a
        # race now that every node waits for AutoNAT before it serves the DHT.
        self.assertTrue({"dht", "inbound"} & set(sources.values()), sources)
        mesh = json.loads(others[0].run("mesh", "--json").stdout)
        self.assertGreaterEqual(mesh["connected_peers"], 3)
        self.assertGreaterEqual(mesh["dht_routing_table"], 3)
        self.assertIn("bootstrap", mesh["per_source"])

        # Events: one node subscribes, another publishes.
        subscriber = subprocess.Popen([TAHO, "events", "subscribe", "demo", "--json", "-n", "2"], env=others[1].env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(subscriber.kill)
        # Publishing needs a subscriber the publisher knows of: retry until
        # the subscription has spread (one gossip heartbeat or so).
        wait_for(lambda: others[2].run("events", "publish", "demo", "hello", check=False).returncode == 0, 15,
                 "a subscriber to demo is known")
        others[2].run("events", "publish", "demo", "--file", os.path.abspath(__file__))
        out, err = subscriber.communicate(timeout=20)
        self.assertEqual(subscriber.returncode, 0, err)
        events = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(events[0]["data"], "hello")
        self.assertEqual(events[0]["from"], others[2].peer_id)
        self.assertEqual(events[0]["topic"], "demo")
        with open(__file__, "rb") as f:
            import base64
            self.assertEqual(base64.b64decode(events[1]["data_base64"]), f.read())

        # Provider records through the DHT.
        content_id = "ca_blake3_" + "ab" * 32
        provided = json.loads(others[0].run("dht", "provide", content_id, "--json").stdout)
        self.assertGreaterEqual(len(provided["announced_to"]), 1)
        found = json.loads(others[2].run("dht", "providers", content_id, "--json").stdout)
        self.assertIn(others[0].peer_id, [p["peer_id"] for p in found["providers"]])
        located = json.loads(others[2].run("dht", "find-peer", others[1].peer_id, "--json").stdout)
        self.assertEqual(located["peer_id"], others[1].peer_id)
        self.assertTrue(located["addrs"], located)
        # Bad keys get a clear usage error from the daemon.
        bad = others[2].run("dht", "providers", "not-a-key", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("not a content id", bad.stderr)

    def test_dht_client_mode_asks_but_is_not_asked(self):
        boot = Node(self, "boot").start()
        client = Node(self, "client", {"TAHO__MESH__DHT_SERVER": "false", "TAHO__MESH__BOOTSTRAP": boot.addr}).start()
        wait_for(lambda: boot.peer_id in client.peer_ids(), 10, "the client connects to its bootstrap node")
        wait_for(lambda: json.loads(client.run("dht", "stats", "--json").stdout)["routing_table_peers"] == 1, 10,
                 "the client has the server in its routing table")
        self.assertEqual(json.loads(client.run("dht", "stats", "--json").stdout)["mode"], "client")
        # The server never adds a client-mode peer (identify does not list the protocol).
        self.assertEqual(json.loads(boot.run("dht", "stats", "--json").stdout)["routing_table_peers"], 0)
        content_id = "ca_blake3_" + "cd" * 32
        client.run("dht", "provide", content_id)
        found = json.loads(boot.run("dht", "providers", content_id, "--json").stdout)
        self.assertIn(client.peer_id, [p["peer_id"] for p in found["providers"]])

    def test_lost_peer_replaced_and_restart_reconnects_from_peerstore(self):
        env = {"TAHO__MESH__MIN_PEERS": "2"}
        boot = Node(self, "boot", env).start()
        nodes = [Node(self, "n%d" % i, {**env, "TAHO__MESH__BOOTSTRAP": boot.addr}).start() for i in range(4)]
        wait_for(lambda: all(len(node.peer_ids()) >= 2 for node in nodes), 20, "every node has 2 peers")
        wait_for(lambda: all(len(node.peer_ids() - {boot.peer_id}) >= 1 for node in nodes), 20,
                 "every node knows another besides the bootstrap node")

        boot.stop(signal.SIGKILL)
        killed = time.monotonic()
        replaced = wait_for(lambda: all(len(node.peer_ids() - {boot.peer_id}) >= 2 for node in nodes), 30,
                            "each node replaced the lost bootstrap peer")
        print("lost peer replaced within %.1f s" % (replaced - killed))

        # Restart one node with no bootstrap at all: its peerstore suffices.
        restarted = nodes[0]
        restarted.stop()
        self.assertTrue(os.path.exists(os.path.join(restarted.home, "peerstore", "peers.json")))
        restarted.env.pop("TAHO__MESH__BOOTSTRAP")
        restarted.start()
        wait_for(lambda: len(restarted.peer_ids()) >= 2, 15, "the restarted node reconnects from its peerstore")
        sources = {row["source"] for row in restarted.peers()}
        self.assertIn("peerstore", sources)


if __name__ == "__main__":
    unittest.main()
