"""The namespace harness itself: namespaces reach each other over the bridge,
and close() leaves nothing behind, also when the test body raises."""
import socket
import subprocess
import sys
import unittest

from netns_harness import NetnsLab, leftovers, require_netns

# A one-shot TCP echo, run inside a namespace with the same interpreter.
ECHO_SERVER = """
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 7777))
server.listen(1)
print("listening", flush=True)
connection, _ = server.accept()
connection.sendall(connection.recv(100))
"""
ECHO_CLIENT = """
import socket, sys
client = socket.create_connection((sys.argv[1], 7777), timeout=5)
client.sendall(b"over the bridge")
print(client.recv(100).decode())
"""


class NetnsHarnessTest(unittest.TestCase):
    def test_namespaces_reach_each_other_and_are_removed(self):
        with NetnsLab(2) as lab:
            tag = lab.tag
            self.assertTrue(leftovers(tag))
            server = lab.popen(0, [sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
            self.assertEqual(server.stdout.readline().strip(), "listening")
            reply = lab.run(1, [sys.executable, "-c", ECHO_CLIENT, lab.address(0)])
            self.assertEqual(reply.stdout.strip(), "over the bridge", reply.stderr)
            # The namespace does not see the host's interfaces.
            links = lab.run(0, ["ip", "-o", "link", "show"]).stdout
            self.assertNotIn(lab.bridge, links)
        self.assertEqual(leftovers(tag), [])
        self.assertIsNotNone(server.poll())

    def test_cleanup_after_a_failure(self):
        tag = None
        with self.assertRaises(RuntimeError):
            with NetnsLab(3) as lab:
                tag = lab.tag
                lab.popen(2, ["sleep", "60"])
                raise RuntimeError("the test failed")
        self.assertEqual(leftovers(tag), [])

    def test_two_labs_at_once_do_not_collide(self):
        with NetnsLab(1) as first, NetnsLab(1) as second:
            self.assertNotEqual(first.tag, second.tag)
            self.assertEqual(first.address(0), second.address(0))  # separate bridges, same subnet


if __name__ == "__main__":
    require_netns()
    unittest.main()
