"""The node identity: created once, private, persistent, refused when unsafe."""
import json
import os
import re
import stat
import unittest

from taho_harness import TahoTestCase

PEER_ID = re.compile(r"^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$")


class IdentityTest(TahoTestCase):
    def key_file(self):
        return os.path.join(self.home, "identity.key")

    def test_first_run_creates_a_private_key(self):
        result = self.taho("id")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout.strip(), PEER_ID)
        mode = stat.S_IMODE(os.stat(self.key_file()).st_mode)
        self.assertEqual(mode, 0o600)

    def test_identity_persists_across_runs(self):
        first = self.taho("id").stdout.strip()
        second = self.taho("id").stdout.strip()
        self.assertEqual(first, second)

    def test_json_output_without_daemon_has_no_addrs(self):
        result = self.taho("id", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        info = json.loads(result.stdout)
        self.assertRegex(info["peer_id"], PEER_ID)
        self.assertEqual(info["addrs"], [])

    def test_group_readable_key_is_refused(self):
        self.taho("id")
        os.chmod(self.key_file(), 0o644)
        result = self.taho("id")
        self.assertEqual(result.returncode, 1)
        self.assertIn("chmod 600", result.stderr)
        daemon = self.start_daemon(wait=False)
        daemon.wait(timeout=20)
        self.assertNotEqual(daemon.returncode, 0)
        self.assertIn("chmod 600", daemon.stderr.read())

    def test_corrupt_key_is_refused_clearly(self):
        self.taho("id")
        with open(self.key_file(), "wb") as f:
            f.write(b"\x08\x01\x12\x05short")
        result = self.taho("id")
        self.assertEqual(result.returncode, 1)
        self.assertIn("corrupt", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_truncated_key_is_refused_clearly(self):
        self.taho("id")
        with open(self.key_file(), "r+b") as f:
            f.truncate(10)
        result = self.taho("id")
        self.assertEqual(result.returncode, 1)
        self.assertIn("corrupt", result.stderr)

    def test_key_of_another_libp2p_type_is_refused(self):
        # A secp256k1 (type 2) libp2p private key: not what a taho node uses.
        with open(self.key_file(), "wb") as f:
            f.write(bytes([0x08, 0x02, 0x12, 0x20]) + bytes(range(32)))
        os.chmod(self.key_file(), 0o600)
        result = self.taho("id")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not Ed25519", result.stderr)


if __name__ == "__main__":
    unittest.main()
