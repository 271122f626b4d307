"""AutoNAT v1 between taho and js-libp2p 3.x (@libp2p/autonat 3) on loopback.

- js asks our daemon to dial it back (a DIAL written and the answer decoded
  with @libp2p/autonat's own codec): our daemon dials js's listen address on
  a fresh connection and answers OK with that address, and the connection js
  had open to us survives.
- Our daemon (default dht_server = "auto") asks js by itself: js answers a
  well-formed DIAL_RESPONSE. A stock js node refuses to dial private and
  loopback addresses, and addresses on its own host, so on loopback that
  answer is E_DIAL_REFUSED, which teaches nothing: we stay "unknown" and a
  DHT client.
"""
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
WAIT_S = 20


class AutonatWithJs(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        super().setUp()
        if MISSING:
            self.fail(MISSING)
        self.daemon = self.start_daemon("--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns")
        info = json.loads(self.taho("id", "--json").stdout)
        self.peer_id = info["peer_id"]
        self.tcp_addr = next(a for a in info["addrs"] if "/tcp/" in a and "/ws" not in a)
        self.js = JsPeer.start("--tcp", "--autonat")
        self.addCleanup(self.js.stop)

    def taho_json(self, *args):
        run = self.taho(*args, "--json", timeout=60)
        self.assertEqual(run.returncode, 0, "taho %s: %s" % (" ".join(args), run.stderr))
        return json.loads(run.stdout)

    def test_js_asks_taho_to_dial_back(self):
        self.js.expect({"cmd": "dial", "addr": self.tcp_addr})
        ident = self.js.expect({"cmd": "identify", "peer": self.peer_id})
        self.assertIn("/libp2p/autonat/1.0.0", ident["protocols"])
        js_addr = self.js.addr()
        answer = self.js.expect({"cmd": "autonat-dial", "peer": self.peer_id, "addrs": [js_addr]})
        self.assertEqual(answer["type"], "DIAL_RESPONSE", answer)
        self.assertEqual(answer["status"], "OK", answer)
        self.assertEqual(answer["addr"], js_addr.split("/p2p/")[0], answer)
        # The dial-back was a connection of its own, inbound at js, now closed;
        # the connection js dialed is still there.
        self.js.wait_event(lambda e: e.get("event") == "connection:open" and e.get("direction") == "inbound"
                           and e.get("peer") == self.peer_id)
        self.assertIn(self.peer_id, [p["peer"] for p in self.js.expect({"cmd": "peers"})["peers"]])
        mesh = self.taho_json("mesh")
        self.assertGreaterEqual(mesh["autonat"]["dial_backs_ok"], 1, mesh)
        self.assertIn(self.js.peer_id, [row["peer_id"] for row in self.taho_json("peers")])

        # An address on another IP is refused (anti-amplification), as js decodes it.
        refused = self.js.expect({"cmd": "autonat-dial", "peer": self.peer_id,
                                  "addrs": ["/ip4/192.0.2.7/tcp/4001"]})
        self.assertEqual(refused["status"], "E_DIAL_REFUSED", refused)

    def test_taho_asks_js(self):
        self.taho_json("connect", self.js.addr())
        deadline = time.monotonic() + WAIT_S
        mesh = {}
        while time.monotonic() < deadline:
            mesh = self.taho_json("mesh")
            if mesh["autonat"]["probes_answered"] >= 1:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(mesh["autonat"]["probes_answered"], 1, mesh)
        status = mesh["autonat"]["last_status"]
        self.assertIn(status, ("OK", "E_DIAL_ERROR", "E_DIAL_REFUSED", "E_BAD_REQUEST", "E_INTERNAL_ERROR"))
        # Observed with @libp2p/autonat 3.0.28: it never dials loopback.
        self.assertEqual(status, "E_DIAL_REFUSED", mesh)
        self.assertEqual(mesh["reachability"], "unknown", "a refusal teaches nothing")
        self.assertEqual(mesh["dht_mode"], "client")
        print("js answered our AutoNAT request with %s" % status)


if __name__ == "__main__":
    unittest.main()
