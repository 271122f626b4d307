"""Runs the real `taho` binary in throwaway homes, for the end-to-end tests."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

TAHO = os.environ.get("TAHO_BIN", "taho")


def clean_env(home):
    """The environment a test run sees: no TAHO__ variables from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
    env["TAHO_HOME"] = home
    # mDNS is on by default; test daemons on one machine must not find each
    # other unless a test asks for it (mdns_loopback_test does).
    env.setdefault("TAHO__MESH__MDNS", "false")
    # Nor may they share the default ports: tests run side by side (ctest -j),
    # and a second daemon on 4001 would fail to start. Free loopback ports of
    # every transport instead; a test's --listen still wins.
    env.setdefault("TAHO__MESH__LISTEN", "/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1,/ip4/127.0.0.1/tcp/0/ws")
    return env


class TahoTestCase(unittest.TestCase):
    """Gives each test a fresh TAHO_HOME and helpers to run taho in it."""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="taho-test-")
        self.env = clean_env(self.home)
        self.daemons = []

    def tearDown(self):
        for process in self.daemons:
            if process.poll() is None:
                process.kill()
                process.wait()
            for pipe in (process.stdout, process.stderr):
                if pipe:
                    pipe.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def taho(self, *args, env=None, input=None, timeout=30):
        return subprocess.run([TAHO, *args], env=env or self.env, input=input, capture_output=True,
                              text=True, timeout=timeout)

    def write_config(self, text):
        with open(os.path.join(self.home, "config.toml"), "w") as f:
            f.write(text)

    def start_daemon(self, *extra, env=None, wait=True):
        """Starts `taho daemon` on a free API port and waits until it answers."""
        process = subprocess.Popen([TAHO, "daemon", "--api-listen", "127.0.0.1:0", *extra],
                                   env=env or self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        self.daemons.append(process)
        if wait:
            self.wait_ready(process)
        return process

    def wait_ready(self, process, timeout=20):
        addr_file = os.path.join(self.home, "api.addr")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail("daemon exited early with %s: %s" % (process.returncode, process.stderr.read()))
            if os.path.exists(addr_file):
                try:
                    status, _ = self.http("GET", "/health")
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        self.fail("daemon did not become ready within %ss" % timeout)

    def api_address(self):
        with open(os.path.join(self.home, "api.addr")) as f:
            return f.read().strip()

    def token(self):
        with open(os.path.join(self.home, "api.token")) as f:
            return f.read().strip()

    def http(self, method, path, token=None, body=None):
        request = urllib.request.Request("http://%s%s" % (self.api_address(), path), method=method, data=body)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stop(self, process, sig=signal.SIGTERM, timeout=15):
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            self.fail("daemon did not stop within %ss of signal %s" % (timeout, sig))
        return process.returncode


class Node:
    """One daemon in its own TAHO_HOME, for tests of several daemons."""

    def __init__(self, test, name, extra_env=None):
        self.test = test
        self.home = tempfile.mkdtemp(prefix="taho-node-%s-" % name)
        test.addCleanup(shutil.rmtree, self.home, True)
        self.env = clean_env(self.home)
        self.env.update(extra_env or {})
        self.process = None
        self.peer_id = None
        self.addr = None
        # The daemon logs to a file, not to a pipe nobody reads: a full pipe
        # would stop the daemon at its next log line. A failed test prints
        # the end of it (cleanups run last first: before the file goes).
        self.name = name
        self.log_path = self.home + ".log"
        test.addCleanup(lambda: os.path.exists(self.log_path) and os.remove(self.log_path))
        test.addCleanup(self.report_log_if_failed)

    def start(self, *extra):
        with open(self.log_path, "a") as log:
            log.write("---- taho daemon %s\n" % " ".join(extra))
            log.flush()
            self.process = subprocess.Popen([TAHO, "daemon", "--api-listen", "127.0.0.1:0", "--listen",
                                             "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--json", *extra],
                                            env=self.env, stdout=subprocess.PIPE, stderr=log, text=True)
        self.test.addCleanup(self.kill)
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=15)
            self.test.fail("daemon did not start: " + self.log_tail())
        self.peer_id = json.loads(line)["peer_id"]
        self.addr = json.loads(self.run("id", "--json").stdout)["addrs"][0]
        return self

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        self.process.wait(timeout=15)
        self.process.stdout.close()

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()

    def log(self):
        """Everything the daemon logged, over all its starts."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        return "".join(self.log().splitlines(keepends=True)[-lines:]) or "(no log)"

    def report_log_if_failed(self):
        if test_failed(self.test):
            print("\n==== last lines of node %s's log (%s)\n%s" % (self.name, self.home, self.log_tail()),
                  file=sys.stderr)

    def run(self, *args, timeout=60, check=True):
        result = subprocess.run([TAHO, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            self.test.fail("taho %s failed (%d): %s" % (" ".join(args), result.returncode, result.stderr))
        return result

    def peers(self):
        return json.loads(self.run("peers", "--json").stdout)

    def peer_ids(self):
        return {row["peer_id"] for row in self.peers()}

    def api_base(self):
        with open(os.path.join(self.home, "api.addr")) as f:
            return "http://" + f.read().strip()

    def api_token(self):
        with open(os.path.join(self.home, "api.token")) as f:
            return f.read().strip()

    def api_request(self, method, path, headers=None, data=None, timeout=60):
        """(status, headers, body bytes) of one API call; HTTP errors are answers too."""
        request = urllib.request.Request(self.api_base() + path, method=method, data=data)
        request.add_header("Authorization", "Bearer " + self.api_token())
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


def test_failed(test):
    """Whether `test` has failed so far: Python 3.11 records a failure as it
    happens, so a cleanup sees it."""
    result = getattr(getattr(test, "_outcome", None), "result", None)
    if result is None:
        return False
    return any(case is test for case, _ in result.failures + result.errors)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError("not within %ss: %s" % (timeout, what))
