"""Processes the bench starts: ports, readiness, clean stops, and their memory (from /proc)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now (for servers that cannot be told to pick one)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Proc:
    """A child process with its output in a log file; ``stop()`` ends it and its children."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_dir: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.popen = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,  # its own process group: stop() reaches gunicorn's workers
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def read_line(self, timeout: float = 30.0) -> str:
        """The next stdout line (the startup line of ``ossemu serve``), or an error."""
        assert self.popen.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(
            target=lambda: result.append(self.popen.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            raise RuntimeError(f"{self.name} printed no startup line; see {self.log_path}")
        return result[0].decode().rstrip("\n")

    def wait_for_port(self, port: int, timeout: float = 60.0) -> None:
        """Return once ``port`` accepts connections; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}): {self.tail()}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on {port} in {timeout:.0f}s")

    def tail(self, lines: int = 15) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after ``timeout``; returns the exit code."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self.popen.stdout:
            self.popen.stdout.close()
        self._log.close()
        return self.popen.returncode


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants (gunicorn's workers, npm's node)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def rss_bytes(pids: Sequence[int]) -> int:
    """Resident memory of ``pids`` added up (VmRSS; processes that exited count 0)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


class MemorySampler:
    """Peak RSS of a process tree while the ``with`` block runs, sampled every 5 ms.

    Growth is the peak minus the resident size just before the block: what one request cost.
    """

    def __init__(self, root_pid: int, interval: float = 0.005) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._pids: list[int] = []

    def _run(self) -> None:
        rounds = 0
        while not self._stop.is_set():
            if rounds % 40 == 0:  # new workers or threads' processes appear rarely
                self._pids = tree_pids(self.root_pid)
            self.peak = max(self.peak, rss_bytes(self._pids))
            rounds += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._pids = tree_pids(self.root_pid)
        self.baseline = rss_bytes(self._pids)
        self.peak = self.baseline
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self._pids))

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1e6
