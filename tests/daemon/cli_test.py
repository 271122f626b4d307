"""The command line as a user meets it: help, version, usage errors."""
import re
import unittest

from taho_harness import TahoTestCase

SUBCOMMANDS = ["daemon", "id", "config", "peers", "connect", "disconnect", "ping", "publish", "content"]


class CliTest(TahoTestCase):
    def test_help_lists_every_subcommand(self):
        result = self.taho("--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        for name in SUBCOMMANDS:
            self.assertRegex(result.stdout, r"\n\s+%s\s" % name)

    def test_every_subcommand_has_its_own_help(self):
        for name in SUBCOMMANDS:
            result = self.taho(name, "--help")
            self.assertEqual(result.returncode, 0, name + ": " + result.stderr)
            self.assertIn(name, result.stdout)

    def test_version(self):
        result = self.taho("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout.strip(), r"^taho \d+\.\d+\.\d+$")

    def test_unknown_command_is_a_usage_error(self):
        result = self.taho("frobnicate")
        self.assertEqual(result.returncode, 2)
        self.assertIn("frobnicate", result.stderr)
        self.assertLess(len(result.stderr.splitlines()), 5, "usage errors stay short")

    def test_unknown_flag_is_a_usage_error(self):
        for args in (["--no-such-flag"], ["id", "--no-such-flag"]):
            result = self.taho(*args)
            self.assertEqual(result.returncode, 2, args)
            self.assertIn("--no-such-flag", result.stderr)

    def test_bad_log_level_is_a_usage_error(self):
        result = self.taho("--log-level", "loud", "id")
        self.assertEqual(result.returncode, 2)


if __name__ == "__main__":
    unittest.main()
