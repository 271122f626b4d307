"""Content exchange between real daemons on loopback: publish on one node,
fetch on others through the Content Exchange API and `taho get`, from
several holders at once, surviving a holder killed mid-fetch, a holder
that serves corrupted bytes, and a fetcher killed by SIGKILL (which resumes
without downloading again what it had verified)."""
import hashlib
import json
import os
import random
import signal
import subprocess
import tempfile
import time
import unittest
import warnings

from taho_harness import TAHO, Node, wait_for

MIB = 1024 * 1024


def b3sum(path):
    out = subprocess.run(["b3sum", "--no-names", path], capture_output=True, text=True, check=True).stdout
    return "ca_blake3_" + out.strip()


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


class ContentExchangeTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.work = tempfile.mkdtemp(prefix="taho-content-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.work])

    def node(self, name, **env):
        extra = {"TAHO__CONTENT__FIND_TIMEOUT": "5s"}
        extra.update({"TAHO__" + key.upper(): value for key, value in env.items()})
        return Node(self, name, extra).start()

    def publish(self, node, size, seed):
        path = os.path.join(self.work, "%s-%d.bin" % (seed, size))
        # The same seed gives the same bytes, so two nodes can hold one content.
        data = random.Random(seed).randbytes(size)
        with open(path, "wb") as f:
            f.write(data)
        published = json.loads(node.run("publish", path, "--json").stdout)
        return published["id"], data, path

    def connect(self, node, other):
        node.run("connect", other.addr)

    def get(self, node, content_id, *extra, timeout=120, check=True):
        out = os.path.join(self.work, "got-%s-%s" % (node.peer_id[-6:], time.monotonic_ns()))
        result = node.run("get", content_id, "-o", out, "--json", *extra, timeout=timeout, check=check)
        return result, out

    def object_data_path(self, node, content_id):
        hex_id = content_id[len("ca_blake3_"):]
        return os.path.join(node.home, "store", "objects", hex_id[:2], hex_id, "data")

    def metrics(self, node):
        status, _, body = node.api_request("GET", "/metrics")
        self.assertEqual(status, 200)
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    # ---- publish on A, fetch on B ----------------------------------------

    def test_publish_then_fetch_through_the_api(self):
        a = self.node("a")
        b = self.node("b")
        self.connect(b, a)
        content_id, data, _ = self.publish(a, 3 * MIB + 12345, "api")
        # The announcement reaches B over gossip (or the fetch asks the connected peer).
        status, headers, body = b.api_request("GET", "/api/v1/content/" + content_id)
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(len(body), len(data))
        self.assertEqual(sha256_of(body), sha256_of(data))
        fetched = os.path.join(self.work, "fetched.bin")
        with open(fetched, "wb") as f:
            f.write(body)
        self.assertEqual(b3sum(fetched), content_id)
        # B holds it now and says so; a second GET is local.
        listed = json.loads(b.run("content", "ls", "--json").stdout)
        self.assertIn(content_id, json.dumps(listed))
        holders = json.loads(b.run("content", "holders", content_id, "--json").stdout)
        self.assertIn(a.peer_id, json.dumps(holders))

    def test_range_of_remote_content(self):
        a = self.node("a")
        b = self.node("b")
        self.connect(b, a)
        content_id, data, _ = self.publish(a, 5 * MIB + 7, "range")
        status, headers, body = b.api_request("GET", "/api/v1/content/" + content_id,
                                              headers={"Range": "bytes=3000000-3100000"})
        self.assertEqual(status, 206, body[:200])
        self.assertEqual(body, data[3000000:3100001])
        self.assertEqual(headers.get("Content-Range"), "bytes 3000000-3100000/%d" % len(data))
        status, headers, _ = b.api_request("HEAD", "/api/v1/content/" + content_id)
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["Content-Length"]), len(data))

    def test_unknown_id_is_not_found_after_the_timeout(self):
        a = self.node("a", content__find_timeout="2s")
        missing = "ca_blake3_" + "ab" * 32
        started = time.monotonic()
        status, _, body = a.api_request("GET", "/api/v1/content/" + missing)
        self.assertEqual(status, 404, body[:200])
        self.assertLess(time.monotonic() - started, 30)
        result, _ = self.get(a, missing, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no holder", (result.stderr + result.stdout).lower())
        status, _, _ = a.api_request("GET", "/api/v1/content/not-an-id")
        self.assertEqual(status, 400)

    # ---- several holders ---------------------------------------------------

    def test_fetch_from_two_holders_at_once_and_survive_one_killed(self):
        # Each holder serves at most 40 Mbit/s, so the 24 MiB fetch takes a few
        # seconds and needs both.
        limit = {"content__serve_mbps_per_peer": "40"}
        a = self.node("a", **limit)
        b = self.node("b", **limit)
        content_id, data, path = self.publish(a, 24 * MIB, "two")
        self.publish(b, 24 * MIB, "two")
        c = self.node("c")
        self.connect(c, a)
        self.connect(c, b)
        result, out = self.get(c, content_id)
        summary = json.loads(result.stdout)
        self.assertEqual(summary["sources"], 2, summary)
        self.assertEqual(b3sum(out), content_id)

        # Again on a fresh node D, killing A in the middle of the fetch.
        d = self.node("d")
        self.connect(d, a)
        self.connect(d, b)
        out = os.path.join(self.work, "d.bin")
        fetch = subprocess.Popen([TAHO, "get", content_id, "-o", out, "--json"], env=d.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        self.assertIsNone(fetch.poll(), "the fetch finished before A was killed: make it slower")
        a.stop(signal.SIGKILL)
        stdout, stderr = fetch.communicate(timeout=120)
        self.assertEqual(fetch.returncode, 0, stderr)
        self.assertEqual(b3sum(out), content_id)

    def test_corrupt_holder_is_detected_and_honest_one_completes(self):
        a = self.node("a")
        content_id, data, _ = self.publish(a, 4 * MIB, "corrupt")
        # A's copy is damaged on disk: it now serves wrong bytes for group 100.
        with open(self.object_data_path(a, content_id), "r+b") as f:
            f.seek(100 * 16384 + 5)
            byte = f.read(1)
            f.seek(100 * 16384 + 5)
            f.write(bytes([byte[0] ^ 0xFF]))
        c = self.node("c")
        self.connect(c, a)
        # Only the corrupt holder: the fetch fails and nothing wrong is stored.
        result, out = self.get(c, content_id, check=False, timeout=120)
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn(content_id, c.run("content", "ls", "--json").stdout)
        # An honest holder appears: the fetch completes and verifies.
        b = self.node("b")
        self.publish(b, 4 * MIB, "corrupt")
        self.connect(c, b)
        result, out = self.get(c, content_id)
        self.assertEqual(b3sum(out), content_id)
        c.run("content", "verify", content_id)

    # ---- resume after SIGKILL ------------------------------------------------

    def test_fetch_killed_by_sigkill_resumes(self):
        a = self.node("a", content__serve_mbps_per_peer="32")
        size = 24 * MIB
        content_id, data, _ = self.publish(a, size, "resume")
        b = self.node("b")
        self.connect(b, a)
        fetch = subprocess.Popen([TAHO, "get", content_id, "-o", os.path.join(self.work, "never.bin")], env=b.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        partial_root = os.path.join(b.home, "store", "partial")
        # Kill B once a good part is verified and on disk (about 4 MB/s).
        time.sleep(3.0)
        served_before = self.metrics(a).get("taho_content_served_bytes_total", 0)
        b.stop(signal.SIGKILL)
        fetch.kill()
        fetch.communicate()
        self.assertTrue(os.path.isdir(partial_root) and os.listdir(partial_root), "no partial download was kept")
        self.assertGreater(served_before, 2 * MIB)
        self.assertLess(served_before, size)

        b.start()
        self.connect(b, a)
        result, out = self.get(b, content_id)
        self.assertEqual(b3sum(out), content_id)
        served_after = self.metrics(a)["taho_content_served_bytes_total"]
        # The second run asked only for what was not verified yet (plus proof
        # overhead and the groups written after the last bitmap flush).
        self.assertLess(served_after - served_before, size - 1 * MIB,
                        "resumed fetch re-downloaded: %d then %d" % (served_before, served_after))


if __name__ == "__main__":
    unittest.main()
