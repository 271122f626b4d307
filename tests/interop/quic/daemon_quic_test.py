"""The taho daemon against js-libp2p (@chainsafe/libp2p-quic) over QUIC:
connections both ways through the swarm (libp2p TLS, multistream-select on
QUIC streams, no Noise or Yamux), identify and ping both ways, many
concurrent streams, and `taho peers` / the API reporting transport quic."""
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


class DaemonQuicWithJs(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        super().setUp()
        if MISSING:
            self.fail(MISSING)  # the interop claim would be unproven: fail, do not skip
        self.js = JsPeer.start("--quic", name="js")
        self.addCleanup(self.js.stop)
        self.daemon = self.start_daemon("--listen", "/ip4/127.0.0.1/udp/0/quic-v1")
        info = json.loads(self.taho("id", "--json").stdout)
        self.peer_id = info["peer_id"]
        self.quic_addr = next(a for a in info["addrs"] if "/quic-v1/" in a)
        self.js_quic = next(a for a in self.js.addrs if "/quic-v1" in a)

    def api(self, method, path, body=None):
        status, text = self.http(method, path, token=self.token(),
                                 body=json.dumps(body).encode() if body is not None else None)
        return status, json.loads(text)

    def row_for_js(self, wait_for_agent=True):
        deadline = time.monotonic() + 10
        row = None
        while time.monotonic() < deadline:
            _, peers = self.api("GET", "/api/v1/peers")
            row = next((p for p in peers["peers"] if p["peer_id"] == self.js.peer_id), None)
            if row and (row["agent"] or not wait_for_agent):
                break
            time.sleep(0.1)
        return row

    def test_taho_dials_js_identifies_and_pings(self):
        status, answer = self.api("POST", "/api/v1/connect", {"addr": self.js_quic})
        self.assertEqual(status, 200, f"{answer}\n{self.js.stderr()}")
        self.assertEqual(answer["peer_id"], self.js.peer_id)
        status, answer = self.api("POST", "/api/v1/ping", {"peer": self.js.peer_id, "transport": "quic"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["transport"], "quic")
        self.assertGreater(answer["rtt_ms"], 0)
        row = self.row_for_js()
        self.assertIsNotNone(row)
        self.assertEqual(row["transport"], "quic")
        self.assertEqual(row["direction"], "outbound")
        self.assertTrue(row["agent"].startswith("js-libp2p/"), row)
        self.assertIn("/ipfs/ping/1.0.0", row["protocols"])
        ident = self.js.request({"cmd": "identify", "peer": self.peer_id})
        self.assertTrue(ident["agent"].startswith("taho/"), ident)
        self.assertIn("/ipfs/id/1.0.0", ident["protocols"])
        self.assertIsNotNone(ident["signed_peer_record"], "js verified our signed peer record")
        self.assertTrue(any("/quic-v1" in a for a in ident["listen_addrs"]), ident["listen_addrs"])

    def test_js_dials_taho_identifies_and_pings(self):
        dialed = self.js.request({"cmd": "dial", "addr": self.quic_addr}, timeout=30)
        self.assertEqual(dialed["peer"], self.peer_id)
        for _ in range(3):
            pong = self.js.request({"cmd": "ping", "peer": self.peer_id})
            self.assertGreaterEqual(pong["rtt_ms"], 0)
        ident = self.js.request({"cmd": "identify", "peer": self.peer_id})
        self.assertTrue(ident["agent"].startswith("taho/"), ident)
        row = self.row_for_js()
        self.assertIsNotNone(row)
        self.assertEqual(row["transport"], "quic")
        self.assertEqual(row["direction"], "inbound")
        self.assertTrue(row["agent"].startswith("js-libp2p/"), row)
        # taho pings back over the same connection.
        ping = self.taho("ping", self.js.peer_id, "--transport", "quic", "-n", "2", "-i", "0", "--json")
        self.assertEqual(ping.returncode, 0, ping.stderr)
        self.assertEqual(json.loads(ping.stdout)["received"], 2)

    def test_many_concurrent_streams_both_ways(self):
        # js opens 64 /echo/1.0.0 streams at once to us over QUIC...
        echo = self.js.request({"cmd": "echo", "addr": self.quic_addr, "streams": 64, "bytes": 16 * 1024},
                               timeout=60)
        self.assertEqual(echo.get("event"), "echo", echo)
        self.assertEqual(echo["bytes"], 64 * 16 * 1024)
        # ...and we open 64 to js.
        status, answer = self.api("POST", "/api/v1/echo", {"peer": self.js.peer_id, "streams": 64, "bytes": 16 * 1024})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["bytes"], 64 * 16 * 1024)

    def test_hundred_mebibytes_both_ways(self):
        # /perf/1.0.0 over one QUIC stream: QUIC flow control end to end, each way.
        bulk = 100 * 1024 * 1024
        self.js.request({"cmd": "dial", "addr": self.quic_addr}, timeout=30)
        self.assertEqual(self.row_for_js(wait_for_agent=False)["transport"], "quic")
        status, answer = self.api("POST", "/api/v1/perf", {"peer": self.js.peer_id, "download_bytes": bulk})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["download_bytes"], bulk)
        status, answer = self.api("POST", "/api/v1/perf", {"peer": self.js.peer_id, "upload_bytes": bulk})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["upload_bytes"], bulk)
        answer = self.js.request({"cmd": "perf", "peer": self.peer_id, "download_bytes": bulk, "timeout_ms": 120_000},
                                 timeout=130)
        self.assertEqual(answer.get("download_bytes"), bulk, answer)
        answer = self.js.request({"cmd": "perf", "peer": self.peer_id, "upload_bytes": bulk, "download_bytes": 1024,
                                  "timeout_ms": 120_000}, timeout=130)
        self.assertEqual(answer.get("upload_bytes"), bulk, answer)

    def test_connection_survives_js_connection_monitor(self):
        # js pings every connection every 10 s over a new stream and closes it on failure.
        self.js.request({"cmd": "dial", "addr": self.quic_addr}, timeout=30)
        time.sleep(12)
        row = self.row_for_js(wait_for_agent=False)
        self.assertIsNotNone(row, "the QUIC connection is still up")
        self.assertEqual(row["transport"], "quic")


if __name__ == "__main__":
    unittest.main()
