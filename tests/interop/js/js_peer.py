"""Drive a js-libp2p peer (peer.mjs) from Python tests.

    with JsPeer.start("--tcp", "--seed", "07" * 32) as peer:
        reply = peer.request({"cmd": "ping", "addr": some_addr})
        print(reply["rtt_ms"])

Every interop test that needs a js-libp2p node uses this: it starts
peer.mjs, waits for its "ready" line, sends commands with a fresh "id" and
returns the reply with that id, and keeps every other line (events) for
wait_event(). A peer that does not start, or does not answer, raises
JsPeerError with its stderr attached.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "peer.mjs"
STARTUP_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 30.0


class JsPeerError(RuntimeError):
    pass


def node_modules_missing() -> str | None:
    """Why the harness cannot run, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed: run scripts/setup"
    if not (HERE / "node_modules" / "libp2p").is_dir():
        return f"js-libp2p is not installed in {HERE / 'node_modules'}: run scripts/setup"
    return None


class JsPeer:
    def __init__(self, process: subprocess.Popen, name: str):
        self.process = process
        self.name = name
        self.peer_id: str = ""
        self.addrs: list[str] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    @classmethod
    def start(cls, *flags: str, name: str = "js", timeout: float = STARTUP_TIMEOUT_S) -> "JsPeer":
        missing = node_modules_missing()
        if missing:
            raise JsPeerError(missing)
        process = subprocess.Popen(
            ["node", str(PEER_SCRIPT), *flags],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, cwd=HERE, env={**os.environ, "NODE_NO_WARNINGS": "1"})
        peer = cls(process, name)
        try:
            ready = peer._next_line(lambda line: line.get("event") in ("ready", "error"), timeout)
        except JsPeerError:
            peer.kill()
            raise
        if ready.get("event") != "ready":
            peer.kill()
            raise JsPeerError(f"{name} did not start: {ready.get('message')}\n{peer.stderr()}")
        peer.peer_id = ready["peer_id"]
        peer.addrs = ready["addrs"]
        return peer

    def __enter__(self) -> "JsPeer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def addr(self, transport: str = "tcp") -> str:
        """The first listen address (with /p2p/) of a transport: "tcp" or "ws"."""
        for addr in self.addrs:
            is_ws = "/ws/" in addr or addr.endswith("/ws")
            if (transport == "ws") == is_ws and "/tcp/" in addr:
                return addr
        raise JsPeerError(f"{self.name} has no {transport} address: {self.addrs}")

    def send(self, command: dict[str, Any]) -> None:
        if self.process.stdin is None or self.process.poll() is not None:
            raise JsPeerError(f"{self.name} is not running\n{self.stderr()}")
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def request(self, command: dict[str, Any], timeout: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
        """Sends a command and returns its reply (an "error" event is returned, not raised)."""
        request_id = f"{self.name}-{next(self._ids)}"
        self.send({**command, "id": request_id})
        return self._next_line(lambda line: line.get("id") == request_id, timeout)

    def expect(self, command: dict[str, Any], timeout: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
        """Like request, but raises unless the reply is the command's own event."""
        reply = self.request(command, timeout)
        if reply.get("event") != command["cmd"]:
            raise JsPeerError(f"{self.name}: {command} failed: {reply}")
        return reply

    def wait_event(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
        """Returns the first event, seen before or after this call, that matches."""
        for event in self._events:
            if predicate(event):
                return event
        return self._next_line(predicate, timeout)

    def events_so_far(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every line received until now (read or not yet) that matches, e.g. to count deliveries."""
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._lines.put(None)  # keep the end marker for later calls
                break
            self._events.append(line)
        return [event for event in self._events if predicate(event)]

    def stop(self, timeout: float = 15.0) -> int:
        """Asks the peer to stop and returns its exit status (killing it if it hangs)."""
        if self.process.poll() is None:
            try:
                self.send({"cmd": "stop"})
                self.process.stdin.close()
            except (JsPeerError, BrokenPipeError, OSError):
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.wait()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stderr(self) -> str:
        return "".join(self._stderr[-200:])

    def _next_line(self, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JsPeerError(f"{self.name}: nothing matching within {timeout} s\n{self.stderr()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._lines.put(None)  # stays closed for later calls
                raise JsPeerError(f"{self.name} exited ({self.process.poll()})\n{self.stderr()}")
            self._events.append(line)
            if predicate(line):
                return line

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            try:
                self._lines.put(json.loads(text))
            except json.JSONDecodeError:
                self._stderr.append(f"(stdout, not JSON) {text}")
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for text in self.process.stderr:
            self._stderr.append(text)
