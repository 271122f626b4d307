"""A fresh TAHO_HOME per test and helpers to run `taho` and `b3sum` in it."""
import os
import shutil
import subprocess
import tempfile
import unittest

TAHO = os.environ.get("TAHO_BIN", "taho")


class ContentTestCase(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="taho-content-test-")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TAHO")}
        self.env["TAHO_HOME"] = self.home
        self.files = tempfile.mkdtemp(prefix="taho-content-files-")

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.files, ignore_errors=True)

    def taho(self, *args, stdin=None, check=True):
        result = subprocess.run([TAHO, *args], env=self.env, input=stdin, capture_output=True, timeout=60)
        if check and result.returncode != 0:
            self.fail(f"taho {' '.join(args)} exited {result.returncode}: {result.stderr.decode()}")
        return result

    def random_file(self, name, size, seed):
        path = os.path.join(self.files, name)
        rng = __import__("random").Random(seed)
        with open(path, "wb") as out:
            remaining = size
            while remaining:
                piece = min(remaining, 1 << 20)
                out.write(rng.randbytes(piece))
                remaining -= piece
        return path

    @staticmethod
    def b3sum(path):
        out = subprocess.run(["b3sum", "--no-names", path], capture_output=True, check=True, timeout=60)
        return out.stdout.decode().strip()
