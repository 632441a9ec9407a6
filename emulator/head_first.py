"""gunicorn's gthread worker, but a request reaches a thread only once its head has arrived.

gunicorn hands each new (or kept-alive, newly readable) connection to a pool thread, which then
blocks reading the request head. 200 sockets that send half a head and stop took every thread of
both workers, and health checks timed out for as long as the sockets were held (issue 15). Here
the worker's event loop reads heads itself, without blocking, and gives a connection to the pool
only when its head is complete (or too large for gunicorn's parser, which then refuses it). A
head that is not complete within ``head_timeout`` seconds of the connection's start (or of the
first byte after a kept-alive wait) is dropped without an answer, as nginx does.

A thread that has just answered waits up to ``next_head_wait`` for the same connection's next
head before handing it back: a client that keeps its connection busy (an SDK's calls in a row, a
load tool) sends it within a round trip, and serving it in the same thread skips the two
hand-offs through the event loop (``bench/analysis.md``: sequential GETs on one connection took
1.91 ms each at p50 before, 1.09 after). The wait
reads without blocking past its deadline, so a client that sends half a head still never holds
a thread longer than that: what did arrive goes back to the event loop with it. A thread stays
only while no other connection is queued for one, so a busy connection cannot starve the rest.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import selectors
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

from .accept_balance import BalancedAccept, ConnectionCounts

HEAD_END = b"\r\n\r\n"
#: Past gunicorn's own limits (an 8,190-byte request line, 100 fields of 8,190) it refuses the
#: head (answered as OSS would, ``refusals``).
MAX_HEAD = 1024 * 1024
_RECV = 65536
#: Seconds a thread waits for a kept-alive connection's next head after answering.
NEXT_HEAD_WAIT = 0.002


def worker_class(head_timeout: float, counts: ConnectionCounts | None = None) -> type[ThreadWorker]:
    """A gthread worker class whose request heads must arrive within ``head_timeout`` s; with
    ``counts`` (made before the fork), its workers spread connections evenly."""
    bases = (HeadFirstWorker,) if counts is None else (BalancedAccept, HeadFirstWorker)
    return type("HeadFirstWorker", bases, {"head_timeout": head_timeout, "counts": counts})


class HeadFirstWorker(ThreadWorker):  # type: ignore[misc]
    head_timeout = 10.0
    next_head_wait = NEXT_HEAD_WAIT

    def init_process(self) -> None:
        #: connections reading their head -> deadline, oldest first (one timeout for all)
        self._heads: dict[TConn, float] = {}
        # Connections given to the pool and connections a thread took up: the difference is
        # how many wait for a thread (``next()`` on a count is atomic, += is not).
        self._queued, self._taken = itertools.count(), itertools.count()
        self._queued_n = self._taken_n = 0
        super().init_process()

    def enqueue_req(self, conn: TConn) -> None:
        self._queued_n = next(self._queued) + 1
        super().enqueue_req(conn)

    def _nobody_waits(self) -> bool:
        return self._taken_n >= self._queued_n

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))
        self._await_head(conn, b"")

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection has its next request coming: read the head here too."""
        self.keepalived_conns.remove(conn)
        self.poller.modify(client, selectors.EVENT_READ, partial(self._read_head, conn))
        self._await_head(conn, b"")

    def _await_head(self, conn: TConn, data: bytes) -> None:
        conn.sock.setblocking(False)
        conn.ossemu_head = bytearray(data)
        self._heads[conn] = time.monotonic() + self.head_timeout
        self._read_head(conn)

    def _read_head(self, conn: TConn, _fileobj: Any = None) -> None:
        """Take what has arrived; once the head is whole, queue the connection for a thread."""
        head = conn.ossemu_head
        try:
            data = conn.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)  # closed (or broken) before its head was complete
            return
        searched = max(0, len(head) - 3)
        head += data
        if HEAD_END not in head[searched:] and len(head) < MAX_HEAD:
            return
        del self._heads[conn]
        self.poller.unregister(conn.sock)
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: TConn) -> None:
        self._heads.pop(conn, None)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def handle(self, conn: TConn) -> Any:
        """In the thread: the bytes read in the loop go back in front of the parser's input."""
        self._taken_n = next(self._taken) + 1
        head = getattr(conn, "ossemu_head", None)
        if head is not None:
            conn.ossemu_head = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(head))
        result = super().handle(conn)
        while result is True and self.alive and self._nobody_waits() and self._next_head(conn):
            result = super().handle(conn)
        return result

    def _next_head(self, conn: TConn) -> bool:
        """True once the connection's next head is buffered whole (within ``next_head_wait``);
        else the bytes that did arrive stay buffered for the event loop (``finish_request``)."""
        unreader = conn.parser.unreader
        got = bytearray(unreader.take_buffered())
        deadline = time.monotonic() + self.next_head_wait
        try:
            while HEAD_END not in got and len(got) < MAX_HEAD:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                conn.sock.settimeout(left)
                data = conn.sock.recv(_RECV)
                if not data:
                    return False  # closed: the event loop sees it and drops the connection
                got += data
            return True
        except OSError:  # the deadline (socket.timeout), or a broken connection
            return False
        finally:
            unreader.unread(bytes(got))

    def finish_request(self, conn: TConn, fs: Any) -> None:
        """Bytes of a next request read ahead with the last one wait for their head here too."""
        if self.alive and not fs.cancelled() and fs.exception() is None and fs.result() is True:
            unreader = conn.parser.unreader
            ahead = unreader.buf.getvalue()
            if ahead and HEAD_END not in ahead:
                unreader.take_buffered()
                self.poller.register(
                    conn.sock, selectors.EVENT_READ, partial(self._read_head, conn)
                )
                self._await_head(conn, ahead)
                return
        super().finish_request(conn, fs)

    def murder_keepalived(self, force: bool = False) -> None:
        """Also drop the connections whose head is late (all of them once the worker stops)."""
        super().murder_keepalived(force)
        now = time.monotonic()
        late = []
        for conn, deadline in self._heads.items():
            if deadline > now and self.alive and not force:
                break
            late.append(conn)
        for conn in late:
            self._drop(conn)
