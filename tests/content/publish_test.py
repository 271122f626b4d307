"""`taho publish` prints ca_blake3_ + b3sum's hex; `taho content` round trips."""
import json
import os

from content_harness import ContentTestCase

SIZES = [0, 1, 1023, 1024, 16385, (1 << 20) + 1, 20 * (1 << 20) + 12345]


class PublishTest(ContentTestCase):
    def test_id_is_b3sum(self):
        for size in SIZES:
            with self.subTest(size=size):
                path = self.random_file(f"f{size}", size, seed=size)
                out = self.taho("publish", path).stdout.decode()
                self.assertEqual(out, "ca_blake3_" + self.b3sum(path) + "\n")

    def test_json_and_stdin(self):
        path = self.random_file("f", 50_000, seed=1)
        expected = "ca_blake3_" + self.b3sum(path)
        answer = json.loads(self.taho("publish", path, "--json").stdout)
        self.assertEqual(answer, {"id": expected, "size": 50_000, "path": os.path.abspath(path)})
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(self.taho("publish", "-", stdin=data).stdout.decode().strip(), expected)

    def test_content_commands(self):
        path = self.random_file("f", 300_000, seed=2)
        with open(path, "rb") as f:
            data = f.read()
        content_id = self.taho("publish", path).stdout.decode().strip()
        self.taho("publish", path)  # the same bytes again: stored once
        listed = json.loads(self.taho("content", "ls", "--json").stdout)
        self.assertEqual(listed, [{"id": content_id, "size": 300_000}])
        stat = json.loads(self.taho("content", "stat", content_id, "--json").stdout)
        self.assertEqual(stat["size"], 300_000)
        self.assertTrue(stat["cid"].startswith("bafkr4i"))
        self.assertEqual(self.taho("content", "cat", content_id).stdout, data)
        out = os.path.join(self.files, "out")
        self.taho("content", "cat", content_id, "-o", out, "--verify")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(self.taho("content", "verify", content_id).stdout.decode(), f"ok {content_id}\n")
        self.taho("content", "rm", content_id)
        self.assertEqual(self.taho("content", "ls").stdout, b"")
        gone = self.taho("content", "cat", content_id, check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn(b"not in the content store", gone.stderr)

    def test_damaged_object_fails_verify(self):
        path = self.random_file("f", 100_000, seed=3)
        content_id = self.taho("publish", path).stdout.decode().strip()
        stored = json.loads(self.taho("content", "stat", content_id, "--json").stdout)["path"]
        os.chmod(stored, 0o644)
        with open(stored, "r+b") as f:
            f.seek(70_000)
            byte = f.read(1)
            f.seek(70_000)
            f.write(bytes([byte[0] ^ 1]))
        failed = self.taho("content", "verify", content_id, check=False)
        self.assertEqual(failed.returncode, 1)
        self.assertIn(b"does not match", failed.stderr)
        self.assertNotEqual(self.taho("content", "cat", content_id, "--verify", check=False).returncode, 0)

    def test_errors(self):
        missing = self.taho("publish", os.path.join(self.files, "nope"), check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"no such file", missing.stderr)
        directory = self.taho("publish", self.files, check=False)
        self.assertEqual(directory.returncode, 1)
        self.assertIn(b"directories is not supported yet", directory.stderr)
        bad = self.taho("content", "stat", "ca_blake3_1234", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn(b"64 hex digits", bad.stderr)
        unknown = self.taho("content", "stat", "ca_blake3_" + "0" * 64, check=False)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn(b"not in the content store", unknown.stderr)
        if os.geteuid() != 0:  # root can read anything
            path = self.random_file("secret", 10, seed=4)
            os.chmod(path, 0)
            unreadable = self.taho("publish", path, check=False)
            self.assertEqual(unreadable.returncode, 1)
            self.assertIn(b"Permission denied", unreadable.stderr)

    def test_store_limit(self):
        path = self.random_file("f", 2 << 20, seed=5)
        full = self.taho("--set", "content.max_store_gb=0.001", "publish", path, check=False)
        self.assertEqual(full.returncode, 1)
        self.assertIn(b"max_store_gb", full.stderr)
