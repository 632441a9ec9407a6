"""Deadlines on reading request bodies, kept by one thread per process.

A socket timeout bounds the wait for each next byte, never a whole body: an upload that sends a
byte every few seconds would hold its thread for ever (issue 15 measured 40 of them answering 0
of 4 health checks). Each body read here gets a deadline; when it passes, the read side of the
connection is shut, the blocked read returns, and the reader sees :attr:`Watch.expired`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time

#: Seconds a deadline may be overrun: the reaper wakes at most this often for its queue.
SLACK = 0.25


class Watch:
    """One body being read: its current deadline, and whether it was cut off."""

    __slots__ = ("sock", "deadline", "expired", "done")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.expired = False
        self.done = False


class Reaper:
    """Shuts the read side of each watched socket whose deadline passed before it was done."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # a lock held by our thread must not cross a fork
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._cond = threading.Condition(threading.Lock())
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> Watch:
        watch = Watch(sock, deadline)
        self._push(watch)
        return watch

    def extend(self, watch: Watch, deadline: float) -> None:
        """Move the deadline (the old heap entry goes stale and is skipped)."""
        with self._cond:
            if watch.expired or watch.done:
                return
            watch.deadline = deadline
        self._push(watch)

    def finish(self, watch: Watch) -> None:
        """The body was read (or failed otherwise): never cut this socket from now on."""
        with self._cond:
            watch.done = True

    def _push(self, watch: Watch) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="ossemu-body-deadlines")
                self._thread.daemon = True
                self._thread.start()
            earliest = not self._heap or watch.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if earliest:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap:
                    deadline, _, watch = self._heap[0]
                    if watch.done or watch.expired or deadline != watch.deadline:
                        heapq.heappop(self._heap)
                        continue
                    if deadline > time.monotonic():
                        break
                    heapq.heappop(self._heap)
                    watch.expired = True
                    with contextlib.suppress(OSError):  # under the lock: never after finish()
                        watch.sock.shutdown(socket.SHUT_RD)
                if not self._heap:
                    self._cond.wait()
                    continue
                # Finished reads stay queued until their deadline: waking for each of them would
                # cost a busy server a thread switch per request; a quarter second's slack won't.
                self._cond.wait(max(self._heap[0][0] - time.monotonic(), SLACK))


REAPER = Reaper()
