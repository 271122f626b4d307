"""The bootstrap list at start: a bad entry is named in a warning and
skipped while the good ones are dialled; a list with no usable entry stops
the daemon with exit code 2; a /dnsaddr entry DNS cannot resolve is retried
in the background and does not hold up the start."""
import subprocess
import time
import unittest
import warnings

from taho_harness import TAHO, Node, wait_for


class BootstrapTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)

    def test_bad_entries_are_named_and_skipped(self):
        boot = Node(self, "boot").start()
        # .invalid never resolves (RFC 6761), whether or not DNS is reachable here.
        entries = ["/ip4/127.0.0.1/tcp/4001", "not-a-multiaddr", boot.addr, "/dnsaddr/taho-bootstrap-test.invalid"]
        started = time.monotonic()
        node = Node(self, "node", {"TAHO__FABRIC__BOOTSTRAP": ",".join(entries)}).start()
        self.assertLess(time.monotonic() - started, 10, "DNS lookups do not delay the start")
        wait_for(lambda: boot.peer_id in node.peer_ids(), 10, "the good entry is dialled")
        node.stop()
        self.assertEqual(node.process.returncode, 0)
        log = node.log()
        self.assertIn('bootstrap entry "/ip4/127.0.0.1/tcp/4001" skipped: must end in /p2p/<peer id>', log)
        self.assertIn('bootstrap entry "not-a-multiaddr" skipped: not a multiaddr', log)
        self.assertNotIn('bootstrap entry "%s" skipped' % boot.addr, log)

    def test_no_usable_entry_is_an_error_at_start(self):
        node = Node(self, "node", {"TAHO__MESH__BOOTSTRAP": "/ip4/10.0.0.1/tcp/4001,bogus"})
        result = subprocess.run([TAHO, "daemon", "--api-listen", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0",
                                 "--no-mdns"], env=node.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn('bootstrap entry "/ip4/10.0.0.1/tcp/4001" skipped', result.stderr)
        self.assertIn('bootstrap entry "bogus" skipped', result.stderr)
        self.assertIn("no usable bootstrap entry: all 2 entries of mesh.bootstrap are bad", result.stderr)

    def test_an_empty_list_is_fine(self):
        node = Node(self, "node", {"TAHO__MESH__BOOTSTRAP": ""}).start()
        self.assertEqual(node.peer_ids(), set())


if __name__ == "__main__":
    unittest.main()
