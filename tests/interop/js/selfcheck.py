#!/usr/bin/env python3
"""Proves the js-libp2p harness works before anything taho depends on it:
two js peers, A listening on TCP and WebSocket with a fixed key, B dialling,
pinging and identifying A over TCP, pinging it over WebSocket, then both
stopping cleanly; and two js peers C and D with gossipsub and kad-dht
exercising the pubsub and dht commands (lib/pubsub.mjs, lib/dht.mjs).
Exit status 0 on success; ctest runs it as interop.js_harness_selfcheck."""

import sys
import time
import unittest

from js_peer import JsPeer, JsPeerError, node_modules_missing

# js-libp2p's peer id for the Ed25519 seed 32 × 0x07 (taho derives the same
# one: see src/proto/identify/peer_record_test.cpp).
SEED_07 = "07" * 32
PEER_ID_07 = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7"


class HarnessSelfCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = node_modules_missing()
        if missing:
            raise JsPeerError(missing)
        cls.a = JsPeer.start("--tcp", "--ws", "--seed", SEED_07, "--agent", "taho-selfcheck/1.0", name="A")
        try:
            cls.b = JsPeer.start("--tcp", name="B")
        except Exception:
            cls.a.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        status_b = cls.b.stop()
        status_a = cls.a.stop()
        if (status_a, status_b) != (0, 0):
            raise AssertionError(f"exit status A={status_a} B={status_b}\n{cls.a.stderr()}\n{cls.b.stderr()}")

    def test_1_fixed_seed_gives_a_fixed_peer_id(self):
        self.assertEqual(self.a.peer_id, PEER_ID_07)
        self.assertTrue(self.a.addr("tcp").endswith("/p2p/" + PEER_ID_07))
        self.assertIn("/ws/", self.a.addr("ws"))

    def test_2_dial_opens_a_connection_both_sides_report(self):
        reply = self.b.expect({"cmd": "dial", "addr": self.a.addr("tcp")})
        self.assertEqual(reply["peer"], PEER_ID_07)
        self.assertEqual(reply["direction"], "outbound")
        opened = self.a.wait_event(lambda e: e.get("event") == "connection:open" and e.get("peer") == self.b.peer_id)
        self.assertEqual(opened["direction"], "inbound")
        peers = self.b.expect({"cmd": "peers"})["peers"]
        self.assertIn(PEER_ID_07, [p["peer"] for p in peers])

    def test_3_ping_by_peer(self):
        by_peer = self.b.expect({"cmd": "ping", "peer": PEER_ID_07})
        self.assertGreaterEqual(by_peer["rtt_ms"], 0)

    def test_4_identify_reports_what_a_announced(self):
        info = self.b.expect({"cmd": "identify", "peer": PEER_ID_07})
        self.assertEqual(info["peer"], PEER_ID_07)
        self.assertEqual(info["agent"], "taho-selfcheck/1.0")
        self.assertEqual(info["protocol_version"], "ipfs/0.1.0")
        self.assertIn("/ipfs/id/1.0.0", info["protocols"])
        self.assertIn("/ipfs/ping/1.0.0", info["protocols"])
        self.assertEqual(info["public_key"], "08011220" + "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c")
        listen = {addr.split("/p2p/")[0] for addr in self.a.addrs}
        self.assertTrue(listen <= set(info["listen_addrs"]), info["listen_addrs"])
        self.assertTrue(info["observed_addr"].startswith("/ip4/127.0.0.1/tcp/"), info["observed_addr"])
        record = info["signed_peer_record"]
        self.assertIsNotNone(record, "js verified no signed peer record from A")
        self.assertTrue(listen <= set(record["addrs"]), record)
        # js also identified on its own when the connection opened.
        automatic = self.b.wait_event(lambda e: e.get("event") == "peer:identify" and e.get("peer") == PEER_ID_07)
        self.assertEqual(automatic["agent"], "taho-selfcheck/1.0")
        # And once more on demand, over a new identify stream.
        fresh = self.b.expect({"cmd": "identify", "peer": PEER_ID_07, "fresh": True})
        for field in ("peer", "agent", "protocols", "listen_addrs", "observed_addr", "public_key"):
            self.assertEqual(fresh[field], info[field], field)
        # js signs a new record for each identify (seq is its clock in ms).
        self.assertEqual(fresh["signed_peer_record"]["addrs"], record["addrs"])
        self.assertGreaterEqual(int(fresh["signed_peer_record"]["seq"]), int(record["seq"]))

    def test_5_errors_are_replies_not_crashes(self):
        unknown = self.b.request({"cmd": "no-such-command"})
        self.assertEqual(unknown["event"], "error")
        self.assertIn("unknown command", unknown["message"])
        missing = self.b.request({"cmd": "ping"})
        self.assertEqual(missing["event"], "error")
        # A peer nobody listens for: dialling fails within the timeout we give.
        nobody = self.b.request({"cmd": "ping", "addr": "/ip4/127.0.0.1/tcp/1", "timeout_ms": 5000}, timeout=15)
        self.assertEqual(nobody["event"], "error")
        # Still alive and answering.
        self.assertEqual(self.b.expect({"cmd": "info"})["peer_id"], self.b.peer_id)

    def test_6_hangup_closes_the_connection(self):
        self.b.expect({"cmd": "hangup", "peer": PEER_ID_07})
        self.a.wait_event(lambda e: e.get("event") == "connection:close" and e.get("peer") == self.b.peer_id)
        self.assertEqual(self.b.expect({"cmd": "peers"})["peers"], [])

    def test_7_ping_over_websocket(self):
        # No connection is left after test 6, so this one dials A's /ws address.
        reply = self.b.expect({"cmd": "ping", "addr": self.a.addr("ws")})
        self.assertGreaterEqual(reply["rtt_ms"], 0)
        peers = self.b.expect({"cmd": "peers"})["peers"]
        self.assertEqual([p["peer"] for p in peers], [PEER_ID_07])
        self.assertTrue(all("/ws" in addr for addr in peers[0]["addrs"]), peers)


class PubsubAndDhtSelfCheck(unittest.TestCase):
    """The gossipsub and kad-dht commands between two js peers (C dials D)."""

    TOPIC = "selfcheck"
    # CIDv1 raw of sha2-256("selfcheck"): js DHT servers take only sha2-256 keys.
    CID = "bafkreidak6fzxuy737xdisgckkxocbhr25ctpbt4whpeyzmpvl4mlptod4"

    @classmethod
    def setUpClass(cls):
        flags = ("--tcp", "--gossipsub", "--kad", "--kad-protocol", "/selfcheck/kad/1.0.0")
        cls.c = JsPeer.start(*flags, name="C")
        try:
            cls.d = JsPeer.start(*flags, name="D")
        except Exception:
            cls.c.stop()
            raise
        cls.c.expect({"cmd": "dial", "addr": cls.d.addr()})

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()
        cls.d.stop()

    def wait_for(self, check, what):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        self.fail(what)

    def test_1_publish_reaches_the_subscriber(self):
        self.assertEqual(self.d.expect({"cmd": "subscribe", "topic": self.TOPIC})["topics"], [self.TOPIC])
        self.wait_for(lambda: self.d.peer_id in self.c.expect({"cmd": "pubsub_peers", "topic": self.TOPIC})["subscribers"],
                      "C never saw D subscribe")
        published = self.c.expect({"cmd": "publish", "topic": self.TOPIC, "data_hex": "00ff7f80"})
        self.assertEqual(published["recipients"], [self.d.peer_id])
        self.assertEqual(published["bytes"], 4)
        # js's StrictSign message id: protobuf(Ed25519 public key) ‖ 8-byte seqno.
        self.assertRegex(published["msg_id"], "^08011220[0-9a-f]{64}[0-9a-f]{16}$")
        self.assertEqual(int(published["msg_id"][-16:], 16), int(published["seqno"]))
        got = self.d.wait_event(lambda e: e.get("event") == "pubsub:message")
        self.assertEqual((got["topic"], got["from"], got["via"]), (self.TOPIC, self.c.peer_id, self.c.peer_id))
        self.assertEqual((got["data_hex"], got["seqno"], got["msg_id"]),
                         ("00ff7f80", published["seqno"], published["msg_id"]))

    def test_2_unsubscribe_and_bad_publish(self):
        self.assertEqual(self.d.expect({"cmd": "unsubscribe", "topic": self.TOPIC})["topics"], [])
        self.wait_for(lambda: self.c.expect({"cmd": "pubsub_peers", "topic": self.TOPIC})["subscribers"] == [],
                      "C still lists D as a subscriber")
        nobody = self.c.request({"cmd": "publish", "topic": self.TOPIC, "data": "x"})
        self.assertEqual(nobody["event"], "error")
        self.assertIn("NoPeersSubscribedToTopic", nobody["message"])
        odd = self.c.request({"cmd": "publish", "topic": self.TOPIC, "data_hex": "abc"})
        self.assertEqual(odd["event"], "error")

    def test_3_dht_routing_provide_find(self):
        self.wait_for(lambda: self.c.expect({"cmd": "dht_routing_table"})["peers"] == [self.d.peer_id],
                      "D never entered C's routing table")
        table = self.d.expect({"cmd": "dht_routing_table"})
        self.assertEqual((table["mode"], table["size"], table["peers"]), ("server", 1, [self.c.peer_id]))
        provided = self.c.expect({"cmd": "dht_provide", "cid": self.CID})
        self.assertEqual(provided["announced_to"], [self.d.peer_id])
        found = self.d.expect({"cmd": "dht_find_providers", "cid": self.CID, "until_peer": self.c.peer_id})
        self.assertIn(self.c.peer_id, [p["peer"] for p in found["providers"]])
        located = self.d.expect({"cmd": "dht_find_peer", "peer": self.c.peer_id})
        self.assertIn(self.c.addr().split("/p2p/")[0], located["addrs"])
        bad = self.d.request({"cmd": "dht_find_providers", "cid": "not-a-cid"})
        self.assertEqual(bad["event"], "error")
        self.assertIn("not a CID", bad["message"])


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
