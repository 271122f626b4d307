"""The daemon's lifecycle and its local API."""
import json
import re
import os
import signal
import stat
import unittest

from taho_harness import TahoTestCase


class DaemonTest(TahoTestCase):
    def test_start_answers_and_stops_cleanly_on_sigterm(self):
        daemon = self.start_daemon()
        self.assertTrue(os.path.exists(os.path.join(self.home, "api.addr")))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.home, "api.token")).st_mode), 0o600)
        self.assertEqual(self.stop(daemon, signal.SIGTERM), 0)
        self.assertFalse(os.path.exists(os.path.join(self.home, "api.addr")))

    def test_stops_cleanly_on_sigint(self):
        daemon = self.start_daemon()
        self.assertEqual(self.stop(daemon, signal.SIGINT), 0)
        self.assertFalse(os.path.exists(os.path.join(self.home, "api.addr")))

    def test_dash_dash_daemon_is_the_daemon(self):
        import subprocess
        env = dict(self.env, TAHO__API__LISTEN="127.0.0.1:0")
        process = subprocess.Popen([os.environ["TAHO_BIN"], "--daemon"], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.daemons.append(process)
        self.wait_ready(process)
        self.assertEqual(self.stop(process), 0)

    def test_json_ready_line(self):
        daemon = self.start_daemon("--json")
        ready = json.loads(daemon.stdout.readline())
        self.assertEqual(ready["event"], "ready")
        self.assertEqual(ready["api"], self.api_address())
        self.assertEqual(ready["peer_id"], json.loads(self.taho("id", "--json").stdout)["peer_id"])
        self.stop(daemon)

    def test_first_start_writes_a_commented_default_config(self):
        daemon = self.start_daemon()
        with open(os.path.join(self.home, "config.toml")) as f:
            text = f.read()
        self.assertIn("[mesh]", text)
        self.assertIn("# min_peers", text)
        self.stop(daemon)

    def test_health_needs_no_token_but_everything_else_does(self):
        daemon = self.start_daemon()
        status, body = self.http("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        for token in (None, "wrong", self.token()[:-1] + "0" if not self.token().endswith("0") else self.token()[:-1] + "1"):
            status, body = self.http("GET", "/api/v1/id", token=token)
            self.assertEqual(status, 401, token)
            self.assertIn("token", json.loads(body)["error"])
        status, body = self.http("GET", "/metrics")
        self.assertEqual(status, 401)
        status, body = self.http("GET", "/api/v1/id", token=self.token())
        self.assertEqual(status, 200)
        self.stop(daemon)

    def test_id_through_daemon_matches_the_key_on_disk(self):
        offline = json.loads(self.taho("id", "--json").stdout)
        daemon = self.start_daemon()
        online = json.loads(self.taho("id", "--json").stdout)
        self.assertEqual(online["peer_id"], offline["peer_id"])
        status, body = self.http("GET", "/api/v1/id", token=self.token())
        self.assertEqual(json.loads(body)["peer_id"], offline["peer_id"])
        self.assertTrue(json.loads(body)["agent_version"].startswith("taho/"))
        self.stop(daemon)

    def test_unknown_endpoint_and_wrong_method(self):
        daemon = self.start_daemon()
        status, body = self.http("GET", "/api/v1/nope", token=self.token())
        self.assertEqual(status, 404)
        status, body = self.http("POST", "/api/v1/id", token=self.token(), body=b"{}")
        self.assertEqual(status, 405)
        self.stop(daemon)

    def test_second_daemon_on_the_same_home_is_refused(self):
        first = self.start_daemon()
        second = self.start_daemon(wait=False)
        second.wait(timeout=20)
        self.assertNotEqual(second.returncode, 0)
        message = second.stderr.read()
        self.assertIn("another taho daemon", message)
        self.assertIn("pid %d" % first.pid, message)
        # The first one is unharmed.
        status, _ = self.http("GET", "/health")
        self.assertEqual(status, 200)
        self.stop(first)

    def test_stale_api_addr_after_a_crash_is_ignored(self):
        daemon = self.start_daemon()
        peer = json.loads(self.taho("id", "--json").stdout)["peer_id"]
        daemon.kill()
        daemon.wait()
        result = self.taho("id", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["peer_id"], peer)
        # And a new daemon starts on the same home: the lock died with the process.
        again = self.start_daemon()
        self.assertEqual(self.stop(again), 0)

    def test_api_port_in_use_is_a_clear_error(self):
        import socket
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        try:
            import subprocess
            result = subprocess.run([os.environ["TAHO_BIN"], "daemon", "--api-listen", "127.0.0.1:%d" % port],
                                    env=self.env, capture_output=True, text=True, timeout=20)
            self.assertEqual(result.returncode, 1)
            self.assertIn("cannot listen", result.stderr)
        finally:
            blocker.close()

    def test_publish_goes_through_the_running_daemon(self):
        import hashlib
        import subprocess
        daemon = self.start_daemon()
        path = os.path.join(self.home, "blob.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(300_000))
        expected = "ca_blake3_" + subprocess.run(["b3sum", "--no-names", path], capture_output=True,
                                                 text=True).stdout.strip()
        before = self.http("GET", "/metrics", token=self.token())[1]
        result = self.taho("publish", path, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["id"], expected)
        after = self.http("GET", "/metrics", token=self.token())[1]
        count = lambda text: int(re.search(r"^taho_api_requests_total (\d+)$", text, re.M).group(1))
        self.assertGreaterEqual(count(after) - count(before), 2, "the CLI asked the daemon")
        # The API takes raw bytes too.
        status, body = self.http("POST", "/api/v1/content", token=self.token(), body=b"hello mesh")
        self.assertEqual(status, 200, body)
        digest = subprocess.run(["b3sum", "--no-names"], input=b"hello mesh", capture_output=True).stdout.decode().strip()
        self.assertEqual(json.loads(body)["id"], "ca_blake3_" + digest)
        status, body = self.http("POST", "/api/v1/content", token=self.token(), body=b'{"path": "relative"}')
        self.assertEqual(status, 200, "without a JSON content type the body is the content")
        self.stop(daemon)

    def test_bad_config_refuses_to_start_naming_file_and_line(self):
        self.write_config("[mesh]\nmin_peers = \"four\"\n")
        daemon = self.start_daemon(wait=False)
        daemon.wait(timeout=20)
        self.assertEqual(daemon.returncode, 2)
        message = daemon.stderr.read()
        self.assertIn("config.toml:2", message)
        self.assertIn("min_peers", message)


if __name__ == "__main__":
    unittest.main()
