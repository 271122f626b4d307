"""Two taho daemons on one machine find and connect to each other through
mDNS on loopback ([mesh] mdns_loopback), with no bootstrap and no connect."""
import json
import shutil
import subprocess
import tempfile
import time
import unittest

from taho_harness import TahoTestCase, clean_env, TAHO

DISCOVERY_DEADLINE_S = 10


class MdnsLoopbackTest(TahoTestCase):
    def start_mdns_daemon(self, env):
        env = dict(env, TAHO__MESH__MDNS="true", TAHO__MESH__MDNS_LOOPBACK="true")
        process = subprocess.Popen([TAHO, "daemon", "--api-listen", "127.0.0.1:0", "--listen",
                                    "/ip4/127.0.0.1/tcp/0", "--json"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.daemons.append(process)
        line = process.stdout.readline()
        if not line:
            self.fail("daemon exited early: %s" % process.stderr.read())
        return json.loads(line)["peer_id"]

    def peers(self, env):
        result = self.taho("peers", "--json", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return {row["peer_id"] for row in json.loads(result.stdout)}

    def test_two_daemons_find_each_other(self):
        other_home = tempfile.mkdtemp(prefix="taho-mdns-")
        self.addCleanup(shutil.rmtree, other_home, True)
        other_env = clean_env(other_home)
        started = time.monotonic()
        first = self.start_mdns_daemon(self.env)
        second = self.start_mdns_daemon(other_env)
        deadline = started + DISCOVERY_DEADLINE_S
        while time.monotonic() < deadline:
            # Other tests' daemons may be on loopback too: only ask for ours.
            if second in self.peers(self.env) and first in self.peers(other_env):
                break
            time.sleep(0.2)
        self.assertIn(second, self.peers(self.env))
        self.assertIn(first, self.peers(other_env))
        print("found each other in %.1f s" % (time.monotonic() - started))

    def test_without_loopback_they_stay_apart(self):
        # The default: mDNS runs but neither announces its loopback address.
        other_home = tempfile.mkdtemp(prefix="taho-mdns-")
        self.addCleanup(shutil.rmtree, other_home, True)
        env = dict(self.env, TAHO__MESH__MDNS="true")
        self.daemons.append(subprocess.Popen(
            [TAHO, "daemon", "--api-listen", "127.0.0.1:0", "--listen", "/ip4/127.0.0.1/tcp/0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        self.wait_ready(self.daemons[-1])
        second = self.start_mdns_daemon(clean_env(other_home))
        time.sleep(3)
        self.assertNotIn(second, self.peers(self.env))


if __name__ == "__main__":
    unittest.main()
