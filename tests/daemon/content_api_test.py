"""The Content Exchange API and `taho get` / `taho content holders|rm` on one
real daemon: the local paths (GET whole and ranges, HEAD, 416, 400, 404 for an
id nobody holds, DELETE, holders) and the CLI on top of them."""
import hashlib
import http.client
import json
import os
import subprocess
import time
import unittest

from taho_harness import TahoTestCase


def b3_id(data):
    """The content id of `data`, computed by b3sum (what users check with)."""
    result = subprocess.run(["b3sum", "--no-names"], input=data, capture_output=True, check=True)
    return "ca_blake3_" + result.stdout.decode().strip()


class ContentApiTest(TahoTestCase):

    def setUp(self):
        super().setUp()
        self.daemon = self.start_daemon()

    def call(self, method, path, headers=None, body=None, timeout=60):
        """(status, headers, body bytes) of one API call with the token."""
        host, port = self.api_address().rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            all_headers = {"Authorization": "Bearer " + self.token()}
            all_headers.update(headers or {})
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def publish(self, data):
        status, _, body = self.call("POST", "/api/v1/content", body=data)
        self.assertEqual(status, 200, body)
        return json.loads(body)["id"]

    def test_get_streams_the_whole_object_with_its_headers(self):
        data = os.urandom(3 * 1024 * 1024 + 123)
        content_id = self.publish(data)
        self.assertEqual(content_id, b3_id(data))
        status, headers, body = self.call("GET", "/api/v1/content/" + content_id)
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        self.assertEqual(headers["content-length"], str(len(data)))
        self.assertEqual(headers["content-type"], "application/octet-stream")
        self.assertEqual(headers["accept-ranges"], "bytes")
        self.assertEqual(headers["etag"], '"%s"' % content_id)

    def test_a_large_object_streams_intact(self):
        # Bigger than the server's stream queue: only backpressure gets it through.
        path = os.path.join(self.home, "big.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(40 * 1024 * 1024))
        status, _, body = self.call("POST", "/api/v1/content", headers={"Content-Type": "application/json"},
                                    body=json.dumps({"path": path}).encode())
        self.assertEqual(status, 200, body)
        content_id = json.loads(body)["id"]
        host, port = self.api_address().rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("GET", "/api/v1/content/" + content_id, headers={"Authorization": "Bearer " + self.token()})
        response = connection.getresponse()
        self.assertEqual(response.status, 200)
        digest = hashlib.sha256()
        received = 0
        while True:
            chunk = response.read(1024 * 1024)
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
            time.sleep(0.001)  # a slow reader
        connection.close()
        with open(path, "rb") as f:
            self.assertEqual(digest.hexdigest(), hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(received, 40 * 1024 * 1024)

    def test_ranges(self):
        data = os.urandom(100_000)
        content_id = self.publish(data)
        path = "/api/v1/content/" + content_id
        cases = [("bytes=0-99", 0, 100), ("bytes=20000-20009", 20000, 10), ("bytes=99990-", 99990, 10),
                 ("bytes=-7", 100_000 - 7, 7), ("bytes=50000-999999", 50000, 50000)]
        for value, offset, length in cases:
            status, headers, body = self.call("GET", path, headers={"Range": value})
            self.assertEqual(status, 206, value)
            self.assertEqual(body, data[offset:offset + length], value)
            self.assertEqual(headers["content-range"], "bytes %d-%d/100000" % (offset, offset + length - 1))
            self.assertEqual(headers["content-length"], str(length))

    def test_unsatisfiable_malformed_and_multiple_ranges_are_416(self):
        content_id = self.publish(os.urandom(1000))
        path = "/api/v1/content/" + content_id
        status, headers, body = self.call("GET", path, headers={"Range": "bytes=1000-"})
        self.assertEqual(status, 416)
        self.assertEqual(headers["content-range"], "bytes */1000")
        status, _, body = self.call("GET", path, headers={"Range": "bytes=abc"})
        self.assertEqual(status, 416)
        self.assertIn("bad Range header", json.loads(body)["error"])
        status, _, body = self.call("GET", path, headers={"Range": "bytes=0-1,5-6"})
        self.assertEqual(status, 416)
        status, _, body = self.call("GET", path, headers={"Range": "lines=0-1"})
        self.assertEqual(status, 200, "another unit is ignored")
        self.assertEqual(len(body), 1000)

    def test_head_gives_the_size(self):
        content_id = self.publish(os.urandom(12345))
        status, headers, body = self.call("HEAD", "/api/v1/content/" + content_id)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-length"], "12345")
        self.assertEqual(body, b"")

    def test_bad_id_is_400(self):
        status, _, body = self.call("GET", "/api/v1/content/ca_blake3_12")
        self.assertEqual(status, 400)
        self.assertIn("bad content id", json.loads(body)["error"])

    def test_an_id_nobody_holds_is_404_within_the_timeout(self):
        missing = b3_id(b"nobody has published this " + os.urandom(16))
        started = time.monotonic()
        status, _, body = self.call("GET", "/api/v1/content/%s?timeout=2" % missing)
        self.assertEqual(status, 404)
        self.assertLess(time.monotonic() - started, 15)
        message = json.loads(body)["error"]
        self.assertIn(missing, message)
        status, _, _ = self.call("HEAD", "/api/v1/content/%s?timeout=2" % missing)
        self.assertEqual(status, 404)

    def test_holders_and_delete(self):
        data = os.urandom(5000)
        content_id = self.publish(data)
        status, _, body = self.call("GET", "/api/v1/content/%s/holders" % content_id)
        self.assertEqual(status, 200)
        answer = json.loads(body)
        self.assertEqual(answer["id"], content_id)
        self.assertTrue(answer["local"])
        self.assertEqual(answer["size"], 5000)
        self.assertIsInstance(answer["holders"], list)
        status, _, body = self.call("DELETE", "/api/v1/content/" + content_id)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["removed"], content_id)
        status, _, _ = self.call("GET", "/api/v1/content/%s?timeout=1" % content_id)
        self.assertEqual(status, 404)
        status, _, _ = self.call("DELETE", "/api/v1/content/" + content_id)
        self.assertEqual(status, 404)

    def test_fetch_events_of_local_content(self):
        content_id = self.publish(b"already here")
        status, headers, body = self.call("POST", "/api/v1/content/%s/fetch" % content_id)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/event-stream"))
        text = body.decode()
        self.assertIn("event: done", text)
        data = json.loads(text.split("data: ", 1)[1].splitlines()[0])
        self.assertEqual(data["size"], len(b"already here"))
        self.assertTrue(data["local"])

    # ---- CLI -----------------------------------------------------------------

    def test_get_to_a_file_and_to_stdout(self):
        data = os.urandom(2 * 1024 * 1024 + 5)
        content_id = self.publish(data)
        out = os.path.join(self.home, "out.bin")
        result = self.taho("get", content_id, "-o", out, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        self.assertEqual(summary["id"], content_id)
        self.assertEqual(summary["size"], len(data))
        self.assertEqual(summary["path"], out)
        self.assertIn("sources", summary)
        self.assertIn("seconds", summary)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertFalse(os.path.exists(out + ".taho-partial"))
        stdout = subprocess.run([os.environ.get("TAHO_BIN", "taho"), "get", content_id], env=self.env,
                                capture_output=True, timeout=60)
        self.assertEqual(stdout.returncode, 0, stdout.stderr)
        self.assertEqual(stdout.stdout, data)

    def test_get_of_an_id_nobody_holds_fails_clearly(self):
        missing = b3_id(os.urandom(32))
        out = os.path.join(self.home, "never.bin")
        result = self.taho("get", missing, "-o", out, "--timeout", "1")
        self.assertEqual(result.returncode, 1)
        self.assertIn(missing, result.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".taho-partial"))

    def test_get_usage_errors(self):
        self.assertEqual(self.taho("get", "ca_blake3_xyz").returncode, 2)
        content_id = self.publish(b"x")
        result = self.taho("get", content_id, "--json")
        self.assertEqual(result.returncode, 2, "--json without -o would mix JSON into the content")

    def test_holders_command(self):
        content_id = self.publish(b"held here")
        result = self.taho("content", "holders", content_id, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        answer = json.loads(result.stdout)
        self.assertTrue(answer["local"])
        result = self.taho("content", "holders", content_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("this node holds it (9 bytes)", result.stdout)

    def test_rm_goes_through_the_daemon(self):
        content_id = self.publish(b"remove me")
        status_before = self.call("GET", "/metrics")[2].decode()
        result = self.taho("content", "rm", content_id, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["removed"], content_id)
        status, _, _ = self.call("HEAD", "/api/v1/content/%s?timeout=1" % content_id)
        self.assertEqual(status, 404)
        status_after = self.call("GET", "/metrics")[2].decode()
        count = lambda text: int([line for line in text.splitlines()
                                  if line.startswith("taho_api_requests_total ")][0].split()[1])
        self.assertGreaterEqual(count(status_after) - count(status_before), 2, "the CLI asked the daemon")
        result = self.taho("content", "rm", content_id)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not in the content store", result.stderr)


class ContentCliWithoutDaemonTest(TahoTestCase):

    def test_get_needs_a_daemon(self):
        result = self.taho("get", b3_id(b"anything"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("no daemon is running", result.stderr)
        self.assertIn("taho daemon", result.stderr)

    def test_holders_needs_a_daemon(self):
        result = self.taho("content", "holders", b3_id(b"anything"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("no daemon is running", result.stderr)

    def test_rm_without_daemon_works_on_the_store(self):
        published = self.taho("publish", "-", "--json", input="local only")
        self.assertEqual(published.returncode, 0, published.stderr)
        content_id = json.loads(published.stdout)["id"]
        result = self.taho("content", "rm", content_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("removed " + content_id, result.stdout)


if __name__ == "__main__":
    unittest.main()
