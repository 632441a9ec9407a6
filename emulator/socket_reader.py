"""A Werkzeug connection's input, readable after a timed-out read and under a head deadline."""

from __future__ import annotations

import io
import socket
import time
from typing import Any


class SocketReader(io.RawIOBase):
    """A connection's bytes, as ``socket.makefile("rb")`` gives them, but still readable after a
    read timed out (``SocketIO`` then refuses every read with an OSError).

    An upload body that times out ends the read side (see ``OssRequest.body_chunks``); Werkzeug's
    drain after the response must then find end of input, not fail with a traceback.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        #: while a request head is read: when it must be complete (``time.monotonic()``)
        self.deadline: float | None = None
        #: once the answer has started: reads take only what has arrived. Werkzeug's drain
        #: after the answer reads ``rfile.read(10 MB)``, which would otherwise wait for a
        #: client that sent a body nobody read and now waits for the connection to close.
        self.answered = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.answered:
            try:
                return self._sock.recv_into(buffer, 0, socket.MSG_DONTWAIT)
            except (BlockingIOError, OSError):
                return 0  # nothing more now: the drain takes it as the end
        if self.deadline is None:
            return self._sock.recv_into(buffer)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request head not complete in time")
        previous = self._sock.gettimeout()
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(previous)
