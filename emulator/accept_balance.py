"""Kept-alive connections spread evenly over gunicorn's workers.

Every worker polls the one listening socket and whichever calls ``accept()`` first gets the
connection, so a pool that opens its connections at once lands unevenly: 11 and 5, or 13 and 3,
of a load tool's 16 (``bench/analysis.md``). Each worker runs its Python one thread at a time, so
the worker holding more connections saturates its core while the other's idles, for as long as
the connections live. Here each worker publishes how many connections it holds, and one that
holds two more than another live worker leaves a new connection to that worker for ``YIELD``
seconds; after that wait it takes it itself (the other may be stuck, or at its limit), so no
connection waits longer than that for an accept. A pool that landed unevenly anyway (the other
worker was still closing a pool's old connections when the new one connected) is moved over one
connection at a time once no new connection has come for ``QUIET`` seconds: the worker holding
two more answers one request with ``Connection: close``, which every HTTP client takes as
"reconnect", at most every ``SHED_EVERY`` seconds. Clients that keep opening connections are
never closed on (a mixed load opening 75 a second paid for it: 7% fewer operations).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

#: How long a worker holding two connections more than another leaves a new one to it.
YIELD = 0.002
#: A worker holding two connections more than another, that accepted none for ``QUIET``
#: seconds, closes one of its connections after an answer at most every ``SHED_EVERY`` seconds.
QUIET = 1.0
SHED_EVERY = 0.05


class ConnectionCounts:
    """Each worker's pid and open connections, in memory shared by the master's children."""

    def __init__(self, slots: int) -> None:
        context = multiprocessing.get_context("fork")
        self._cells = context.RawArray("q", 2 * slots)  # (pid, connections) per slot
        self._lock = context.Lock()

    def claim(self) -> int:
        """A slot for this process: a free one, or one whose worker has died."""
        pid = os.getpid()
        with self._lock:
            for slot in range(len(self._cells) // 2):
                owner = self._cells[2 * slot]
                if owner in (0, pid) or not _alive(owner):
                    self._cells[2 * slot], self._cells[2 * slot + 1] = pid, 0
                    return slot
        return -1  # more workers than slots (respawns racing): this one just never yields

    def set(self, slot: int, connections: int) -> None:
        if slot >= 0:
            self._cells[2 * slot + 1] = connections

    def another_holds_fewer(self, slot: int, connections: int) -> bool:
        """True if another live worker holds fewer connections than ``connections``."""
        for other in range(len(self._cells) // 2):
            pid = self._cells[2 * other]
            if other != slot and pid and self._cells[2 * other + 1] < connections and _alive(pid):
                return True
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BalancedAccept:
    """Mixin for gunicorn's gthread worker (before it in the bases): publishes ``nr_conns``
    and yields new connections to a worker that holds fewer."""

    counts: ConnectionCounts | None = None
    _slot = -1
    _open = 0
    _paused_until = 0.0
    _accepted_at = 0.0
    _next_shed = 0.0

    @property
    def nr_conns(self) -> int:
        return self._open

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._open = value
        if self.counts is not None:
            self.counts.set(self._slot, value)

    def run(self) -> None:
        """Counted from here: a worker still loading the app accepts nothing yet."""
        if self.counts is not None:
            self._slot = self.counts.claim()
            self.counts.set(self._slot, self._open)
        super().run()  # type: ignore[misc]

    def accept(self, listener: Any) -> None:
        now = time.monotonic()
        if (
            self.counts is not None
            and now >= self._paused_until + YIELD  # yielded just now: take it this time
            and self.counts.another_holds_fewer(self._slot, self._open - 1)
        ):
            self._paused_until = now + YIELD
            self.set_accept_enabled(False)
            return
        self._accepted_at = now
        super().accept(listener)  # type: ignore[misc]

    def handle_request(self, req: Any, conn: Any) -> Any:
        """Close the connection after this answer if the workers' shares are two apart or
        more and no new connection came for a while: connections opened while another worker
        still reaped its closed ones stay where they landed otherwise."""
        now = time.monotonic()
        if (
            self.counts is not None
            and now >= self._next_shed
            and now - self._accepted_at >= QUIET
            and self.counts.another_holds_fewer(self._slot, self._open - 1)
        ):
            self._next_shed = now + SHED_EVERY
            req.must_close = True
        return super().handle_request(req, conn)  # type: ignore[misc]

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled and time.monotonic() < self._paused_until:
            return
        super().set_accept_enabled(enabled)  # type: ignore[misc]

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        left = self._paused_until - time.monotonic()
        if left > 0:
            timeout = min(timeout, left)
        super().wait_for_and_dispatch_events(timeout)  # type: ignore[misc]
