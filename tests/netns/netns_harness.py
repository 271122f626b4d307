"""Network namespaces for tests that need a real LAN on one machine.

    with NetnsLab(3) as lab:            # 3 namespaces on one bridge
        lab.address(0)                  # "10.77.0.1"
        process = lab.popen(0, ["taho", "daemon"], env=...)
        lab.run(1, ["ping", "-c1", lab.address(0)])

Each namespace gets a veth pair whose far end ("lan0", 10.77.0.<i+1>/24) sits
in the namespace and whose near end is enslaved to a bridge on the host, plus
a route for 224.0.0.0/4 via lan0 (without it a process that sends multicast
to the default interface, as js-libp2p's mDNS does, fails silently). Names
carry a per-run tag, so parallel test runs do not collide: each lab is its
own bridge, so the same 10.77.0.0/24 can be used by all of them at once.

Everything is removed on exit, also when the test fails or is interrupted:
processes started with popen() are killed, then the namespaces and the
bridge are deleted. Needs root and iproute2: require_netns() exits with 77
(ctest's SKIP_RETURN_CODE) and says why when either is missing.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
from typing import Sequence

SKIP_EXIT_CODE = 77
SUBNET_PREFIX = "10.77.0."
LAN_INTERFACE = "lan0"


def netns_unavailable() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return "ip netns is not available: " + probe.stderr.strip()
    return None


def require_netns() -> None:
    """Exits with SKIP_EXIT_CODE, saying why, when namespaces are unavailable."""
    reason = netns_unavailable()
    if reason:
        print("SKIP: " + reason, file=sys.stderr)
        sys.exit(SKIP_EXIT_CODE)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), result.stderr.strip()))
    return result


class NetnsLab:
    def __init__(self, count: int):
        if not 1 <= count <= 250:
            raise ValueError("between 1 and 250 namespaces")
        self.count = count
        # Interface names are at most 15 bytes: "tb" / "tv" + 6 hex + index.
        self.tag = secrets.token_hex(3)
        self.bridge = "tb" + self.tag
        self.namespaces = ["taho-%s-%d" % (self.tag, i) for i in range(count)]
        self._host_ends = ["tv%s%d" % (self.tag, i) for i in range(count)]
        self._processes: list[subprocess.Popen] = []
        self._created = False

    def __enter__(self) -> "NetnsLab":
        atexit.register(self.close)
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum, frame):  # ctest kills timed-out tests with SIGTERM
            self.close()
            if callable(previous):
                previous(signum, frame)
            sys.exit(128 + signum)

        signal.signal(signal.SIGTERM, on_term)
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def address(self, index: int) -> str:
        return SUBNET_PREFIX + str(index + 1)

    def popen(self, index: int, command: Sequence[str], **kwargs) -> subprocess.Popen:
        """Starts a command inside namespace `index`; it is killed on close()."""
        process = subprocess.Popen(["ip", "netns", "exec", self.namespaces[index], *command], **kwargs)
        self._processes.append(process)
        return process

    def run(self, index: int, command: Sequence[str], timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
        """Runs a command inside namespace `index` to completion."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(["ip", "netns", "exec", self.namespaces[index], *command], timeout=timeout, **kwargs)

    def _create(self) -> None:
        self._created = True
        _ip("link", "add", self.bridge, "type", "bridge")
        # mDNS uses 224.0.0.251, which bridges flood anyway; no snooping
        # surprises either way.
        _ip("link", "set", self.bridge, "type", "bridge", "mcast_snooping", "0", check=False)
        _ip("link", "set", self.bridge, "up")
        for i, (namespace, host_end) in enumerate(zip(self.namespaces, self._host_ends)):
            _ip("netns", "add", namespace)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", LAN_INTERFACE, "netns", namespace)
            _ip("link", "set", host_end, "master", self.bridge)
            _ip("link", "set", host_end, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            _ip("-n", namespace, "addr", "add", self.address(i) + "/24", "dev", LAN_INTERFACE)
            _ip("-n", namespace, "link", "set", LAN_INTERFACE, "up")
            _ip("-n", namespace, "route", "add", "224.0.0.0/4", "dev", LAN_INTERFACE)

    def close(self) -> None:
        """Kills what popen() started and removes the namespaces and bridge. Idempotent."""
        for process in self._processes:
            if process.poll() is None:
                # `ip netns exec` execs the command, so this is the command itself.
                process.kill()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe:
                    try:
                        pipe.close()
                    except OSError:
                        pass
        self._processes.clear()
        if not self._created:
            return
        self._created = False
        for namespace in self.namespaces:
            # Anything still running in the namespace (started some other way) goes too.
            pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _ip("netns", "del", namespace, check=False)  # also removes its veth pair
        for host_end in self._host_ends:
            _ip("link", "del", host_end, check=False)
        _ip("link", "del", self.bridge, check=False)


def leftovers(tag: str) -> list[str]:
    """Namespaces and links of a lab that close() should have removed (for self-checks)."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return [line for line in (names + links).splitlines() if tag in line]
