"""taho against js-libp2p 3.x on real loopback sockets: Noise, Yamux,
multistream-select, identify and ping, over TCP and WebSocket, both ways."""
import json
import os
import sys
import time
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "js"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "daemon"))

from js_peer import JsPeer, node_modules_missing  # noqa: E402
from taho_harness import TahoTestCase  # noqa: E402

MISSING = node_modules_missing()


class TahoWithJs(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)  # pipes of the js peer closed by its own thread
        super().setUp()
        if MISSING:
            # Not a skip: the interop claim would be unproven. Fail loudly.
            self.fail(MISSING)
        self.js = JsPeer.start("--tcp", "--ws")
        self.addCleanup(self.js.stop)
        self.daemon = self.start_daemon("--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/tcp/0/ws")
        info = json.loads(self.taho("id", "--json").stdout)
        self.peer_id = info["peer_id"]
        self.tcp_addr = next(a for a in info["addrs"] if "/ws" not in a)
        self.ws_addr = next(a for a in info["addrs"] if "/ws" in a)

    def api(self, method, path, body=None):
        status, text = self.http(method, path, token=self.token(),
                                 body=json.dumps(body).encode() if body is not None else None)
        return status, json.loads(text)

    def js_addr(self, websocket):
        return next(a for a in self.js.addrs if ("/ws" in a) == websocket)

    def check_taho_dials_js(self, websocket):
        status, answer = self.api("POST", "/api/v1/connect", {"addr": self.js_addr(websocket)})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["peer_id"], self.js.peer_id)
        status, answer = self.api("POST", "/api/v1/ping", {"peer": self.js.peer_id})
        self.assertEqual(status, 200, answer)
        self.assertGreater(answer["rtt_ms"], 0)
        # Identify ran: taho learnt js's agent and protocols.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, peers = self.api("GET", "/api/v1/peers")
            row = next((p for p in peers["peers"] if p["peer_id"] == self.js.peer_id), None)
            if row and row["agent"]:
                break
            time.sleep(0.1)
        self.assertIsNotNone(row)
        self.assertTrue(row["agent"].startswith("js-libp2p/"), row)
        self.assertIn("/ipfs/ping/1.0.0", row["protocols"])
        self.assertEqual(row["transport"], "ws" if websocket else "tcp")
        self.assertEqual(row["direction"], "outbound")
        # And js identified us.
        ident = self.js.request({"cmd": "identify", "peer": self.peer_id})
        self.assertTrue(ident["agent"].startswith("taho/"), ident)
        self.assertIn("/ipfs/ping/1.0.0", ident["protocols"])
        self.assertIsNotNone(ident["signed_peer_record"], "js verified our signed peer record")

    def check_js_dials_taho(self, websocket):
        addr = self.ws_addr if websocket else self.tcp_addr
        dialed = self.js.request({"cmd": "dial", "addr": addr})
        self.assertEqual(dialed["peer"], self.peer_id)
        pong = self.js.request({"cmd": "ping", "peer": self.peer_id})
        self.assertGreaterEqual(pong["rtt_ms"], 0)  # js reports whole ms: loopback is often 0
        ident = self.js.request({"cmd": "identify", "peer": self.peer_id})
        self.assertTrue(ident["agent"].startswith("taho/"), ident)
        self.assertEqual(ident["public_key"], ident["public_key"])  # present
        listen = set(ident["listen_addrs"])
        self.assertTrue(any(a.startswith("/ip4/127.0.0.1/tcp/") for a in listen), listen)
        _, peers = self.api("GET", "/api/v1/peers")
        row = next((p for p in peers["peers"] if p["peer_id"] == self.js.peer_id), None)
        self.assertIsNotNone(row, peers)
        self.assertEqual(row["direction"], "inbound")
        status, answer = self.api("POST", "/api/v1/ping", {"peer": self.js.peer_id})
        self.assertEqual(status, 200, answer)

    def test_taho_dials_js_over_tcp(self):
        self.check_taho_dials_js(websocket=False)

    def test_taho_dials_js_over_websocket(self):
        self.check_taho_dials_js(websocket=True)

    def test_js_dials_taho_over_tcp(self):
        self.check_js_dials_taho(websocket=False)

    def test_js_dials_taho_over_websocket(self):
        self.check_js_dials_taho(websocket=True)

    def test_connection_survives_js_connection_monitor(self):
        # js pings every connection every 10 s and closes it when a ping fails.
        self.js.request({"cmd": "dial", "addr": self.tcp_addr})
        time.sleep(12)
        _, peers = self.api("GET", "/api/v1/peers")
        self.assertIn(self.js.peer_id, [p["peer_id"] for p in peers["peers"]])

    def test_disconnect_closes_the_js_side_too(self):
        self.api("POST", "/api/v1/connect", {"addr": self.js_addr(False)})
        status, answer = self.api("POST", "/api/v1/disconnect", {"peer": self.js.peer_id})
        self.assertEqual(status, 200, answer)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            peers = self.js.request({"cmd": "peers"})["peers"]
            if self.peer_id not in [p["peer"] for p in peers]:
                break
            time.sleep(0.1)
        self.assertNotIn(self.peer_id, [p["peer"] for p in peers])

    def test_wrong_peer_id_in_address_is_refused(self):
        other = JsPeer.start("--tcp")
        self.addCleanup(other.stop)
        # js's address with the other js node's id: Noise must reject it.
        addr = self.js_addr(False).rsplit("/p2p/", 1)[0] + "/p2p/" + other.peer_id
        status, answer = self.api("POST", "/api/v1/connect", {"addr": addr})
        self.assertEqual(status, 502, answer)
        self.assertIn("peer_id_mismatch", answer["error"])


if __name__ == "__main__":
    unittest.main()
