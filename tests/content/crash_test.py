"""SIGKILL `taho publish` at random moments: no readable but wrong object is
ever left, leftovers are cleaned, and the next publish succeeds."""
import json
import os
import random
import signal
import subprocess
import time

from content_harness import TAHO, ContentTestCase

FILE_BYTES = 200 << 20
KILLS = 6


class CrashTest(ContentTestCase):
    def publish_killed_after(self, path, delay):
        process = subprocess.Popen([TAHO, "publish", path], env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def assert_store_sound(self):
        listed = json.loads(self.taho("content", "ls", "--json").stdout)
        for entry in listed:
            self.taho("content", "verify", entry["id"])  # fails the test on a wrong object
        return listed

    def test_sigkill_never_leaves_a_wrong_object(self):
        seed = int(os.environ.get("TAHO_TEST_SEED", random.randrange(1 << 30)))
        print(f"seed {seed}")
        rng = random.Random(seed)
        path = self.random_file("big", FILE_BYTES, seed=seed)
        expected = "ca_blake3_" + self.b3sum(path)

        # How long one publish takes here, to spread the kills over it.
        timing_home = self.env["TAHO_HOME"] + "-timing"
        start = time.monotonic()
        subprocess.run([TAHO, "publish", path], env={**self.env, "TAHO_HOME": timing_home},
                       check=True, capture_output=True, timeout=60)
        duration = time.monotonic() - start
        print(f"one publish takes {duration:.2f}s")
        subprocess.run(["rm", "-rf", timing_home], check=True)

        for _ in range(KILLS):
            delay = rng.uniform(0, duration * 1.1)
            self.publish_killed_after(path, delay)
            listed = self.assert_store_sound()
            print(f"killed after {delay:.2f}s: {len(listed)} object(s) stored, all verified")
            for entry in listed:
                self.assertEqual(entry["id"], expected)
            # Only the current writer's leftovers may exist; the listing above
            # opened the store and cleaned the killed one's.
            tmp = os.path.join(self.home, "store", "tmp")
            self.assertEqual(os.listdir(tmp), [])

        out = self.taho("publish", path).stdout.decode().strip()
        self.assertEqual(out, expected)
        self.assertEqual([e["id"] for e in self.assert_store_sound()], [expected])
