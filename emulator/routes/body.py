"""Request bodies and the client's socket: bounded reads, idle limits, dropped connections.

No Flask here: these work on the WSGI stream and environ, under Werkzeug and gunicorn alike.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

from .. import expect_continue
from ..protocol.errors import BadRequest, OssError
from .deadlines import REAPER

CHUNK = 1024 * 1024
#: The first read stops a page short of CHUNK, so the writes of a blob file that follow start
#: off the 1 MiB boundaries. Written on them, a 256 MiB PUT cost the kernel 1.0-1.4 s of system
#: CPU; shifted by a page, 0.2-0.9 s, and the PUT ran 28-92% faster in two A/Bs (Linux 6.18 on
#: ext4; likely the large page-cache folios that aligned writes get; ``bench/analysis.md``). A
#: form upload's file was shifted already, by the form's own fields, and was the faster of the two.
FIRST_CHUNK = CHUNK - 4096
#: environ key set once the request body has been read to its end.
BODY_READ = "ossemu.body_read"


def read_chunks(
    stream: BinaryIO,
    environ: dict[str, Any],
    idle: float | None,
    min_rate: float | None = None,
    length: int | None = None,
) -> Iterator[bytes]:
    """The request body in bounded chunks; a client that stops mid-way is IncompleteBody.

    One that goes silent for ``idle`` seconds gets 400 RequestTimeout, as from OSS: otherwise
    each stalled upload holds a server thread for ever. That limit is a socket timeout, so it
    bounds the wait for each next byte only; a body that trickles (a byte every few seconds)
    is held to ``min_rate`` bytes a second on average, after ``idle`` seconds of grace: the
    body so far, up to the end of the chunk being read (or ``length``), must have arrived by
    ``start + idle + bytes / min_rate``, else the same RequestTimeout.
    """
    sock = _client_socket(environ)
    expect_continue.grant(environ)  # the request is verified: now the body may come
    start, received = time.monotonic(), 0

    def due() -> float:
        wanted = received + CHUNK if length is None else min(received + CHUNK, length)
        return start + (idle or 0) + wanted / (min_rate or 1)

    watch = REAPER.watch(sock, due()) if sock is not None and min_rate else None
    idle_limit = _IdleLimit(sock, idle)
    try:
        while True:
            try:
                with idle_limit:
                    chunk = stream.read(FIRST_CHUNK if received == 0 else CHUNK)
            # Only the read is guarded: the WSGI server raises its own types for a client that
            # disconnects or breaks chunked framing (Werkzeug: ClientDisconnected, OSError;
            # gunicorn: NoMoreData, InvalidChunkSize...), and each means the body never arrived.
            except Exception as error:
                if not _timed_out(error) and not (watch and watch.expired):
                    raise BadRequest("IncompleteBody") from None
                if sock is not None:
                    _stop_reading(sock)
                raise OssError("RequestTimeout") from None
            if watch is not None and watch.expired:  # the read ended at the shut read side
                raise OssError("RequestTimeout")
            if not chunk:
                environ[BODY_READ] = True
                return
            received += len(chunk)
            if length is not None and received >= length:  # no read for the end of input
                environ[BODY_READ] = True
                yield chunk
                return
            if watch is not None:
                REAPER.extend(watch, due())
            yield chunk
    finally:
        if watch is not None:
            REAPER.finish(watch)


def body_left_unread(environ: dict[str, Any]) -> bool:
    """The request came with a body that nobody read to its end (an error answered first).

    Such an answer must close the connection and say so: the unread bytes cannot be taken as
    the next request, and draining a body of gigabytes to keep the connection is no bargain.
    """
    if environ.get(BODY_READ):
        return False
    length = environ.get("CONTENT_LENGTH") or "0"
    chunked = environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower() == "chunked"
    return chunked or length.strip("0") != ""


def read_capped(
    chunks: Iterator[bytes], environ: dict[str, Any], limit: int, error: OssError
) -> bytes:
    """A small body (an XML document) read whole, but never more than ``limit`` bytes of it.

    Past the limit ``error`` is raised at once, and the connection's read side is shut, so
    neither we nor the WSGI server's drain read the rest of a body that may be endless.
    """
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) > limit:
            refuse_rest(environ)
            raise error
    return bytes(out)


def refuse_rest(environ: dict[str, Any]) -> None:
    """Leave the rest of the request body unread: the connection closes after the answer."""
    sock = _client_socket(environ)
    if sock is not None:
        _stop_reading(sock)


def abort_connection(stream: BinaryIO, environ: dict[str, Any]) -> None:
    """Drop the client's connection mid-body (fault injection): read some, then hang up."""
    expect_continue.grant(environ)
    stream.read(64 * 1024)
    sock = _client_socket(environ)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("connection dropped by an injected fault")


def _client_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The connection's socket, from the two servers we run under (others: no idle limit)."""
    return environ.get("gunicorn.socket") or environ.get("werkzeug.socket")


class _IdleLimit:
    """Reads on ``sock`` wait at most ``seconds`` for each next byte, then raise TimeoutError.

    The server's own setting comes back afterwards: it expects it for the response and for
    keep-alive (gunicorn: blocking while serving a request, non-blocking while idle). A class,
    not ``@contextmanager``: it is entered for every chunk read, and a generator costs more.
    """

    __slots__ = ("sock", "seconds", "previous")

    def __init__(self, sock: socket.socket | None, seconds: float | None) -> None:
        self.sock = sock if seconds is not None else None
        self.seconds = seconds
        self.previous: float | None = None

    def __enter__(self) -> None:
        if self.sock is not None:
            self.previous = self.sock.gettimeout()
            self.sock.settimeout(self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.sock is not None:
            self.sock.settimeout(self.previous)


def _timed_out(error: BaseException | None) -> bool:
    """The read failed because the socket timed out, however the server wrapped that
    (Werkzeug's LimitedStream turns it into ClientDisconnected raised while handling it)."""
    while error is not None:
        if isinstance(error, TimeoutError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _stop_reading(sock: socket.socket) -> None:
    """End the connection's read side once the body has timed out.

    Whatever the client sends later is no part of a request, and the servers then see end of
    input at once: Werkzeug's drain after the response and gunicorn's graceful close would
    otherwise wait on the silent client (gunicorn does that on its main loop, 2 s each).
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
