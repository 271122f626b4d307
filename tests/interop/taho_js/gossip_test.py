"""taho's gossipsub against js-libp2p 3.x (@libp2p/gossipsub 17) on loopback:
messages both ways through the CLI and the API, every byte value, a js peer
reaching another js peer only through taho's router, and the local size limit.
"""
import base64
import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "js"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "daemon"))

from js_peer import JsPeer, node_modules_missing  # noqa: E402
from taho_harness import TAHO, TahoTestCase  # noqa: E402

MISSING = node_modules_missing()
TOPIC = "taho/interop test"  # a space and a slash: the topic is percent-encoded on the way
TOPIC_PATH = "/api/v1/events/" + urllib.parse.quote(TOPIC, safe="")
GOSSIP_MESSAGE_BYTES_MAX = 1024 * 1024  # taho's default limit on a message's data
WAIT_S = 15


class EventStream:
    """`taho events subscribe TOPIC --json -n COUNT` running in the background."""

    def __init__(self, env, topic, count):
        self.process = subprocess.Popen([TAHO, "events", "subscribe", topic, "--json", "-n", str(count)],
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line))
        self.lines.put((time.monotonic(), None))

    def next(self, timeout=WAIT_S):
        """The next event as (arrival time, parsed JSON); fails on exit or timeout."""
        try:
            arrived, line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no event within %s s" % timeout)
        if line is None:
            raise AssertionError("taho events subscribe ended (%s): %s"
                                 % (self.process.wait(), self.process.stderr.read()))
        return arrived, json.loads(line)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdout, self.process.stderr):
            pipe.close()


class GossipWithJs(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)  # pipes of the js peer closed by its own thread
        super().setUp()
        if MISSING:
            self.fail(MISSING)  # not a skip: the interop claim would be unproven
        self.daemon = self.start_daemon("--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns")
        info = json.loads(self.taho("id", "--json").stdout)
        self.peer_id = info["peer_id"]
        self.tcp_addr = next(a for a in info["addrs"] if "/tcp/" in a and "/ws" not in a)

    def start_js(self, name="js"):
        peer = JsPeer.start("--tcp", "--gossipsub", name=name)
        self.addCleanup(peer.stop)
        return peer

    def subscribe_taho(self, count):
        stream = EventStream(self.env, TOPIC, count)
        self.addCleanup(stream.close)
        return stream

    def connect_taho_to(self, js):
        status, text = self.http("POST", "/api/v1/connect", token=self.token(),
                                 body=json.dumps({"addr": js.addr()}).encode())
        self.assertEqual(status, 200, text)

    def wait_js_sees_subscriber(self, js, peer):
        """Waits until js has heard `peer` subscribe to TOPIC (only then will js publish to it)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if peer in js.expect({"cmd": "pubsub_peers", "topic": TOPIC})["subscribers"]:
                return
            time.sleep(0.05)
        self.fail("%s never saw %s subscribe to %r" % (js.name, peer, TOPIC))

    def wait_mesh(self, js):
        """Waits until taho and js have each other in TOPIC's mesh (both sent GRAFT)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            in_js_mesh = self.peer_id in js.expect({"cmd": "pubsub_peers", "topic": TOPIC})["mesh"]
            topics = json.loads(self.taho("mesh", "--json").stdout)["gossip_topics"]
            if in_js_mesh and topics.get(TOPIC, {}).get("mesh_peers", 0) >= 1:
                return
            time.sleep(0.1)
        self.fail("no mesh between taho and %s for %r: js says %s, taho says %s"
                  % (js.name, TOPIC, js.expect({"cmd": "pubsub_peers", "topic": TOPIC}), topics))

    def publish_from_taho(self, data):
        """POSTs data to TOPIC, retrying while taho knows no subscriber yet; returns the reply."""
        deadline = time.monotonic() + WAIT_S
        while True:
            status, text = self.http("POST", TOPIC_PATH, token=self.token(), body=data)
            if status == 200:
                return json.loads(text)
            self.assertEqual(status, 503, text)
            self.assertIn("no peer subscribes", text)
            if time.monotonic() > deadline:
                self.fail("taho never learnt that a peer subscribes to %r: %s" % (TOPIC, text))
            time.sleep(0.05)

    def wait_js_message(self, js, predicate=lambda event: True):
        return js.wait_event(lambda e: e.get("event") == "pubsub:message" and predicate(e), WAIT_S)

    def check_taho_event(self, event, js, published, data):
        """A message taho delivered, against what js reported publishing."""
        self.assertEqual(event["topic"], TOPIC)
        self.assertEqual(event["from"], js.peer_id)
        self.assertEqual(str(event["seqno"]), published["seqno"])
        # js's message id (protobuf key ‖ seqno): taho must compute the same one
        # or IHAVE/IWANT with js peers would never match.
        self.assertEqual(event["id"], published["msg_id"])
        self.assertEqual(base64.b64decode(event["data_base64"]), data)

    # --- js -> taho ---------------------------------------------------------

    def test_js_publishes_taho_receives_text(self):
        js = self.start_js()
        stream = self.subscribe_taho(count=2)
        js.expect({"cmd": "dial", "addr": self.tcp_addr})
        self.wait_js_sees_subscriber(js, self.peer_id)
        latencies = []
        for text in ("hello from js", "zweite Nachricht: ünïcödé ✓"):
            sent = time.monotonic()
            published = js.expect({"cmd": "publish", "topic": TOPIC, "data": text})
            self.assertEqual(published["recipients"], [self.peer_id])
            arrived, event = stream.next()
            latencies.append((arrived - sent) * 1000)
            self.check_taho_event(event, js, published, text.encode())
            self.assertEqual(event["data"], text)
        self.assertEqual(stream.process.wait(timeout=WAIT_S), 0, "-n 2 exits after two events")
        print("\njs -> taho latency (publish command to CLI line): %s ms"
              % ", ".join("%.1f" % ms for ms in latencies), file=sys.stderr)

    def test_js_publishes_every_byte_value(self):
        js = self.start_js()
        stream = self.subscribe_taho(count=1)
        self.connect_taho_to(js)
        self.wait_js_sees_subscriber(js, self.peer_id)
        data = bytes(range(256))
        published = js.expect({"cmd": "publish", "topic": TOPIC, "data_hex": data.hex()})
        _, event = stream.next()
        self.check_taho_event(event, js, published, data)
        self.assertIsNone(event["data"], "not UTF-8: only data_base64")

    # --- taho -> js ---------------------------------------------------------

    def test_taho_publishes_js_receives_text(self):
        js = self.start_js()
        js.expect({"cmd": "subscribe", "topic": TOPIC})
        self.connect_taho_to(js)
        deadline = time.monotonic() + WAIT_S
        while True:  # the CLI too: exit 1 with "no peer subscribes" until taho has heard js
            run = self.taho("events", "publish", TOPIC, "hello from taho", "--json")
            if run.returncode == 0 or time.monotonic() > deadline:
                break
            self.assertIn("no peer subscribes", run.stderr)
            time.sleep(0.05)
        self.assertEqual(run.returncode, 0, run.stderr)
        reply = json.loads(run.stdout)
        self.assertEqual(reply["bytes"], len("hello from taho"))
        event = self.wait_js_message(js)
        self.assertEqual(event["topic"], TOPIC)
        self.assertEqual(event["from"], self.peer_id)
        self.assertEqual(event["via"], self.peer_id)
        self.assertEqual(bytes.fromhex(event["data_hex"]), b"hello from taho")
        # js accepted our signature (StrictSign) and derives the id we reported.
        self.assertEqual(event["msg_id"], reply["id"])

    def test_taho_publishes_every_byte_value_and_the_limit(self):
        js = self.start_js()
        js.expect({"cmd": "subscribe", "topic": TOPIC})
        js.expect({"cmd": "dial", "addr": self.tcp_addr})
        data = bytes(range(256))
        reply = self.publish_from_taho(data)
        event = self.wait_js_message(js)
        self.assertEqual(bytes.fromhex(event["data_hex"]), data)
        self.assertEqual(event["msg_id"], reply["id"])
        # The CLI sends a file's bytes unchanged too.
        reversed_file = os.path.join(self.home, "reversed.bin")
        with open(reversed_file, "wb") as f:
            f.write(data[::-1])
        run = self.taho("events", "publish", TOPIC, "--file", reversed_file, "--json")
        self.assertEqual(run.returncode, 0, run.stderr)
        reply = json.loads(run.stdout)
        event = self.wait_js_message(js, lambda e: e["msg_id"] == reply["id"])
        self.assertEqual(bytes.fromhex(event["data_hex"]), data[::-1])
        self.assertEqual(event["from"], self.peer_id)
        # Exactly the limit still goes out and reaches js...
        largest = bytes(i % 251 for i in range(GOSSIP_MESSAGE_BYTES_MAX))
        reply = self.publish_from_taho(largest)
        event = self.wait_js_message(js, lambda e: e["msg_id"] == reply["id"])
        self.assertEqual(bytes.fromhex(event["data_hex"]), largest)
        # ...one byte more is refused locally, by the API and by the CLI.
        status, text = self.http("POST", TOPIC_PATH, token=self.token(), body=largest + b"!")
        self.assertEqual(status, 413, text)
        self.assertIn("larger than the limit of %d bytes" % GOSSIP_MESSAGE_BYTES_MAX, json.loads(text)["error"])
        too_large = os.path.join(self.home, "too-large.bin")
        with open(too_large, "wb") as f:
            f.write(largest + b"!")
        run = self.taho("events", "publish", TOPIC, "--file", too_large)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("larger than the limit", run.stderr)
        # Nothing of it reached js.
        time.sleep(0.5)
        sizes = [len(e["data_hex"]) // 2 for e in js.events_so_far(lambda e: e.get("event") == "pubsub:message")]
        self.assertNotIn(GOSSIP_MESSAGE_BYTES_MAX + 1, sizes)

    def test_js_unsubscribe_reaches_taho(self):
        js = self.start_js()
        js.expect({"cmd": "subscribe", "topic": TOPIC})
        self.connect_taho_to(js)
        self.publish_from_taho(b"before")
        js.expect({"cmd": "unsubscribe", "topic": TOPIC})
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            status, text = self.http("POST", TOPIC_PATH, token=self.token(), body=b"after")
            if status == 503:
                break
            time.sleep(0.05)
        self.assertEqual(status, 503, "taho still publishes to js after it unsubscribed: " + text)
        self.assertIn("no peer subscribes", text)

    # --- js -> taho -> js ---------------------------------------------------

    def test_taho_forwards_between_js_peers(self):
        js1 = self.start_js("js1")
        js2 = self.start_js("js2")
        js2.expect({"cmd": "subscribe", "topic": TOPIC})
        stream = self.subscribe_taho(count=1)  # taho relays only topics it is in
        js1.expect({"cmd": "dial", "addr": self.tcp_addr})
        self.connect_taho_to(js2)
        self.wait_js_sees_subscriber(js1, self.peer_id)
        self.wait_js_sees_subscriber(js2, self.peer_id)
        # The only path from js1 to js2 is through taho.
        self.assertEqual([p["peer"] for p in js1.expect({"cmd": "peers"})["peers"]], [self.peer_id])
        self.assertEqual([p["peer"] for p in js2.expect({"cmd": "peers"})["peers"]], [self.peer_id])
        # Gossipsub relays along the topic's mesh: wait for the GRAFTs between
        # taho and js2 (heartbeats: 1 s on both sides).
        self.wait_mesh(js2)
        data = bytes(range(256)) + b"relayed"
        sent = time.monotonic()
        published = js1.expect({"cmd": "publish", "topic": TOPIC, "data_hex": data.hex()})
        self.assertEqual(published["recipients"], [self.peer_id])
        event = self.wait_js_message(js2)
        relayed_ms = (time.monotonic() - sent) * 1000
        self.assertEqual(event["from"], js1.peer_id, "the author stays js1")
        self.assertEqual(event["via"], self.peer_id, "taho handed it to js2")
        self.assertEqual(event["seqno"], published["seqno"])
        self.assertEqual(event["msg_id"], published["msg_id"])
        self.assertEqual(bytes.fromhex(event["data_hex"]), data)
        _, mine = stream.next()
        self.check_taho_event(mine, js1, published, data)
        # Delivered once: no duplicate at js2.
        time.sleep(1.0)
        self.assertEqual(len(js2.events_so_far(lambda e: e.get("event") == "pubsub:message")), 1)
        print("\njs1 -> taho -> js2 latency: %.1f ms" % relayed_ms, file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
