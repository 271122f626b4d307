"""A daemon under a flood of abandoned connections: 500 TCP connections that
say nothing, half a multistream header or half a Noise message, some closed
at once and some left open. The daemon keeps serving its established peer,
refuses what is above its limits at once, drops the rest at the upgrade
timeout and keeps its memory bounded."""
import select
import socket
import time
import unittest
import warnings

from taho_harness import Node, TahoTestCase

FLOOD_CONNECTIONS = 500
RSS_BOUND_KIB = 200 * 1024
UPGRADE_TIMEOUT_S = 10

# What each abandoned connection sends before going quiet.
PARTIAL_MULTISTREAM = b"\x13/multistream/1.0"                      # the header cut short
HALF_NOISE = b"\x13/multistream/1.0.0\n\x07/noise\n" + b"\x00\x20" + b"\x01" * 16  # 16 of 32 bytes of message 1


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class HostileTest(TahoTestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        super().setUp()
        # Both daemons log to files; a failed test prints their last lines.
        self.target = Node(self, "target").start()
        self.target_addr = self.target.addr
        self.target_peer = self.target.peer_id
        self.port = int(self.target_addr.split("/tcp/")[1].split("/")[0])
        # A well-behaved peer in its own home.
        self.other = Node(self, "other").start()
        self.sockets = []
        self.addCleanup(self.close_sockets)

    def close_sockets(self):
        for s in self.sockets:
            s.close()
        self.sockets = []

    def other_taho(self, *args):
        return self.other.run(*args, check=False)

    def ping_target(self):
        result = self.other_taho("ping", self.target_peer, "-n", "1")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def target_connections(self):
        status, _, body = self.target.api_request("GET", "/metrics")
        self.assertEqual(status, 200)
        line = next(l for l in body.decode().splitlines() if l.startswith("taho_connections "))
        return int(line.split()[1])

    def flood(self):
        """Opens the abandoned connections; every 4th is closed at once."""
        for i in range(FLOOD_CONNECTIONS):
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError as error:
                self.fail("connection %d not accepted: %s" % (i, error))
            payload = (b"", PARTIAL_MULTISTREAM, HALF_NOISE)[i % 3]
            try:
                if payload:
                    s.sendall(payload)
            except OSError:
                pass  # refused above the limit and already closed: that is allowed
            if i % 4 == 3:
                s.close()
            else:
                self.sockets.append(s)

    def wait_for_drops(self, timeout, ping_every_s=2.0):
        """Waits until the daemon closed every kept socket (EOF or reset) or
        the timeout passes, pinging it over the honest connection meanwhile.
        Returns how many it closed."""
        open_sockets = set(self.sockets)
        closed = 0
        deadline = time.monotonic() + timeout
        next_ping = time.monotonic() + ping_every_s
        while open_sockets and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_sockets), [], [], 0.2)
            for s in readable:
                try:
                    if s.recv(4096):
                        continue
                except OSError:
                    pass
                closed += 1
                open_sockets.discard(s)
            if time.monotonic() >= next_ping:
                self.ping_target()
                next_ping = time.monotonic() + ping_every_s
        return closed

    def test_abandoned_connections_leave_the_daemon_serving(self):
        # The honest peer connects before the flood and stays connected.
        result = self.other_taho("connect", self.target_addr)
        self.assertEqual(result.returncode, 0, result.stderr)
        rss_before = rss_kib(self.target.process.pid)

        started = time.monotonic()
        self.flood()
        self.assertIsNone(self.target.process.poll(), "the daemon survived the flood")
        # Only a bounded number of them are being upgraded (pending_upgrades_max),
        # the rest were refused and closed straight away.
        self.assertLessEqual(self.target_connections(), 64 + 1 + 8)
        rss_during = rss_kib(self.target.process.pid)
        self.assertLess(rss_during, RSS_BOUND_KIB, "RSS %d KiB under the flood" % rss_during)
        self.ping_target()  # the established connection still works

        # Past the upgrade timeout every abandoned connection has been dropped.
        remaining = max(0.5, UPGRADE_TIMEOUT_S + 2 - (time.monotonic() - started))
        closed = self.wait_for_drops(remaining)
        self.assertEqual(closed, len(self.sockets), "every abandoned connection kept open gets closed")
        self.assertEqual(self.target_connections(), 1)
        self.ping_target()

        # New connections are accepted again: the honest peer reconnects.
        result = self.other_taho("disconnect", self.target_peer)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.other_taho("connect", self.target_addr)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.ping_target()

        rss_after = rss_kib(self.target.process.pid)
        self.assertLess(rss_after, RSS_BOUND_KIB)
        # Memory did not grow with the number of connections (a generous margin
        # for allocator caches): well under 64 KiB per abandoned connection.
        self.assertLess(rss_after - rss_before, FLOOD_CONNECTIONS * 64,
                        "RSS grew from %d to %d KiB" % (rss_before, rss_after))
        print("\nRSS before %d KiB, during %d KiB, after %d KiB" % (rss_before, rss_during, rss_after))

    def test_repeated_floods_do_not_accumulate(self):
        """Three rounds of open-and-close at once: nothing is left behind."""
        rss = []
        for _ in range(3):
            self.flood()
            self.close_sockets()
            time.sleep(0.5)
            rss.append(rss_kib(self.target.process.pid))
        self.assertIsNone(self.target.process.poll())
        deadline = time.monotonic() + UPGRADE_TIMEOUT_S + 3
        while time.monotonic() < deadline and self.target_connections() > 0:
            time.sleep(0.2)
        self.assertEqual(self.target_connections(), 0)
        result = self.other_taho("connect", self.target_addr)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.ping_target()
        self.assertLess(max(rss), RSS_BOUND_KIB)
        self.assertLess(rss[2] - rss[0], 16 * 1024, "RSS per round: %s KiB" % rss)


    # Regression: a stream opened on a connection idle for longer than the
    # stream negotiation timeout once got an already-passed deadline.
    def test_first_stream_after_an_idle_spell(self):
        result = self.other_taho("connect", self.target_addr)
        self.assertEqual(result.returncode, 0, result.stderr)
        time.sleep(UPGRADE_TIMEOUT_S + 1)
        self.ping_target()


if __name__ == "__main__":
    unittest.main()
