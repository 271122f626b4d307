"""QUIC interop: taho's quic_peer against js-libp2p (@chainsafe/libp2p-quic).

taho dials js and pings it over /ipfs/ping/1.0.0 (multistream-select on a
QUIC stream, libp2p TLS checking js's peer id); js dials taho and pings it;
and two quic_peer processes talk over real UDP, as a baseline that needs no
js at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import queue
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "js"))

from js_peer import JsPeer, node_modules_missing  # noqa: E402

QUIC_PEER = os.environ.get("QUIC_PEER_BIN", "")


class QuicPeerProcess:
    """A running quic_peer, its JSON lines collected as they arrive."""

    def __init__(self, *flags: str):
        self.process = subprocess.Popen([QUIC_PEER, *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[dict | None] = queue.Queue()
        self.seen: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for text in self.process.stdout:
            try:
                self.lines.put(json.loads(text))
            except json.JSONDecodeError:
                pass
        self.lines.put(None)

    def wait_for(self, event: str, timeout: float = 20.0) -> dict:
        for line in self.seen:
            if line.get("event") == event:
                return line
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"quic_peer exited before {event!r}: {self.seen}\n{self.process.stderr.read()}")
            self.seen.append(line)
            if line.get("event") == "error":
                raise AssertionError(f"quic_peer failed: {line}")
            if line.get("event") == event:
                return line

    def wait_exit(self, timeout: float) -> int:
        """The exit status, once every line the process wrote is read: the
        reader thread may still hold its last lines when the process is gone."""
        status = self.process.wait(timeout)
        self.reader.join(timeout)
        return status

    def events(self, event: str) -> list[dict]:
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        return [line for line in self.seen if line.get("event") == event]

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        status = self.process.wait()
        self.reader.join(timeout)  # every line the process wrote is queued
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        return status


def quic_addr(addrs: list[str]) -> str:
    for addr in addrs:
        if "/quic-v1" in addr:
            return addr
    raise AssertionError(f"no QUIC address in {addrs}")


@unittest.skipUnless(QUIC_PEER, "QUIC_PEER_BIN is not set (run through ctest)")
class QuicInterop(unittest.TestCase):
    def test_taho_to_taho_over_udp(self):
        server = QuicPeerProcess("--serve", "--timeout-s", "60")
        try:
            listening = server.wait_for("listening")
            client = QuicPeerProcess("--dial", listening["addr"], "--pings", "3")
            try:
                self.assertEqual(client.wait_exit(30), 0, client.seen + [client.process.stderr.read()])
                self.assertEqual(len(client.events("ping")), 3)
                connected = client.wait_for("connected")
                self.assertEqual(connected["peer"], listening["peer_id"])
            finally:
                client.stop()
            self.assertEqual(server.wait_for("connected")["inbound"], True)
            self.assertGreaterEqual(len(server.events("ping_served")), 3)
        finally:
            server.stop()

    @unittest.skipIf(node_modules_missing(), node_modules_missing() or "")
    def test_taho_dials_js_and_pings(self):
        with JsPeer.start("--quic", name="js") as js:
            peer = QuicPeerProcess("--dial", quic_addr(js.addrs), "--pings", "3")
            try:
                status = peer.wait_exit(45)
                self.assertEqual(status, 0, f"{peer.seen}\n{peer.process.stderr.read()}\n{js.stderr()}")
                self.assertEqual(peer.wait_for("connected")["peer"], js.peer_id)
                rtts = [event["rtt_ms"] for event in peer.events("ping")]
                self.assertEqual(len(rtts), 3)
                self.assertTrue(all(0 <= rtt < 1000 for rtt in rtts), rtts)
                opened = js.wait_event(lambda event: event.get("event") == "connection:open")
                self.assertIn("/quic-v1", opened["addr"])
            finally:
                peer.stop()

    @unittest.skipIf(node_modules_missing(), node_modules_missing() or "")
    def test_js_dials_taho_and_pings(self):
        for flags in ((), ("--always-retry",)):
            with self.subTest(flags=flags):
                self._js_dials_taho_and_pings(*flags)

    def _js_dials_taho_and_pings(self, *flags: str):
        peer = QuicPeerProcess("--serve", "--timeout-s", "60", *flags)
        try:
            listening = peer.wait_for("listening")
            with JsPeer.start("--quic", name="js") as js:
                reply = js.request({"cmd": "ping", "addr": listening["addr"]}, timeout=30)
                self.assertEqual(reply.get("event"), "ping", f"{reply}\n{peer.seen}\n{js.stderr()}")
                connected = peer.wait_for("connected")
                self.assertEqual(connected["peer"], js.peer_id)
                self.assertTrue(connected["inbound"])
                peer.wait_for("ping_served")
                # js runs identify on the new connection; we answer `na` and the connection stays up.
                second = js.request({"cmd": "ping", "peer": listening["peer_id"]}, timeout=30)
                self.assertEqual(second.get("event"), "ping", second)
        finally:
            peer.stop()
        stats = peer.events("stats")
        self.assertTrue(stats, peer.seen)
        self.assertEqual(stats[0]["handshakes_completed"], 1)
        self.assertEqual(stats[0]["retries_sent"], 1 if "--always-retry" in flags else 0)

    @unittest.skipIf(node_modules_missing(), node_modules_missing() or "")
    def test_taho_refuses_js_under_another_peer_id(self):
        with JsPeer.start("--quic", name="js") as js:
            wrong = quic_addr(js.addrs).replace(js.peer_id, OTHER_PEER_ID)
            peer = QuicPeerProcess("--dial", wrong, "--pings", "1", "--timeout-s", "15")
            try:
                self.assertEqual(peer.wait_exit(30), 1)
                errors = peer.events("error")
                self.assertTrue(errors, peer.seen)
                self.assertIn("peer_id_mismatch", errors[0]["message"])
                self.assertIn(js.peer_id, errors[0]["message"])
                self.assertFalse(peer.events("connected"), peer.seen)
            finally:
                peer.stop()

    @unittest.skipIf(node_modules_missing(), node_modules_missing() or "")
    def test_js_refuses_broken_taho_certificates(self):
        for kind in ("bad-signature", "without-extension"):
            with self.subTest(kind=kind):
                peer = QuicPeerProcess("--serve", "--certificate", kind, "--timeout-s", "60")
                try:
                    listening = peer.wait_for("listening")
                    with JsPeer.start("--quic", name="js") as js:
                        reply = js.request({"cmd": "ping", "addr": listening["addr"], "timeout_ms": 8000}, timeout=20)
                        self.assertEqual(reply.get("event"), "error", reply)
                    self.assertFalse(peer.events("ping_served"), peer.seen)
                finally:
                    peer.stop()
                stats = peer.events("stats")
                self.assertTrue(stats, peer.seen)
                self.assertEqual(stats[0]["handshakes_completed"], 0)


# The peer id of Ed25519 seed 07..07: valid, and neither side's.
OTHER_PEER_ID = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7"


if __name__ == "__main__":
    unittest.main()
