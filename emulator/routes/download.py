"""A blob file handed to the WSGI server for GetObject, that never lets a short body pass as whole.

The size is checked when the file is opened (``Storage.open_blob``); a file cut short while it
is being sent (by something outside ossemu: blobs are never rewritten) would otherwise end a
response shorter than its ``Content-Length``, and on a kept-alive connection the client would
wait for bytes that never come. ``close()``, which both servers call once the body is out (after
gunicorn's ``sendfile`` too), looks again and hangs up the connection when the file shrank, so
the client sees a broken response, never a complete-looking short one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from io import BytesIO
from typing import Any, BinaryIO

log = logging.getLogger("ossemu")


class ExactFile:
    """``f`` for ``wrap_file``: reads and ``fileno()`` pass through; ``close()`` checks."""

    def __init__(self, f: BinaryIO, size: int, environ: dict[str, Any]) -> None:
        self._f = f
        self._size = size
        self._environ = environ

    def fileno(self) -> int:
        return self._f.fileno()

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return True

    def __enter__(self) -> ExactFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._f.closed or not hasattr(self._f, "fileno") or isinstance(self._f, BytesIO):
            self._f.close()
            return
        try:
            stored = os.fstat(self._f.fileno()).st_size
        finally:
            self._f.close()
        if stored < self._size:
            log.error("a blob shrank to %d of %d bytes while it was sent", stored, self._size)
            sock = self._environ.get("gunicorn.socket") or self._environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
