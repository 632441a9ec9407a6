"""What ``ossemu serve`` changes in gunicorn's HTTP/1 handling, each for a reason OSS clients see.

Applied once, in the master before it forks (``gunicorn_patches.apply()``); every patch marks
what it replaced, so a second call changes nothing.
"""

from __future__ import annotations

import socket
from typing import Any

from . import expect_continue, refusals


def apply() -> None:
    import gunicorn.http.wsgi

    _let_chunked_override_content_length()
    _honour_connection_close_and_date()
    _head_rides_with_the_body()
    _refusals_read_as_oss()
    if not getattr(gunicorn.http.wsgi.create, "defers_continue", False):
        gunicorn.http.wsgi.create = _deferring_continue(gunicorn.http.wsgi.create)


def _let_chunked_override_content_length() -> None:
    """Take a request with both ``Content-Length`` and ``Transfer-Encoding: chunked`` as RFC 9112
    section 6.3 allows and OSS does (ali-oss sends it): the chunked framing alone counts, the
    length is dropped, and the connection closes after the answer, so no second request can be
    smuggled behind the body. gunicorn answers such a request 400 without this.

    Everything else (a repeated length, stacked codings, chunked over HTTP/1.0) still reaches
    gunicorn's own checks and their 400.
    """
    from gunicorn.http.message import Request

    if getattr(Request, "_ossemu_chunked_wins", False):
        return
    checked = Request.set_body_reader

    def set_body_reader(self: Any) -> None:
        codings = [v for n, v in self.headers if n == "TRANSFER-ENCODING"]
        lengths = [v for n, v in self.headers if n == "CONTENT-LENGTH"]
        chunked = codings and codings[-1].rsplit(",", 1)[-1].strip(" \t").lower() == "chunked"
        if chunked and len(lengths) == 1 and self.version >= (1, 1):
            self.headers = [(n, v) for n, v in self.headers if n != "CONTENT-LENGTH"]
            self.force_close()
        checked(self)

    Request.set_body_reader = set_body_reader
    Request._ossemu_chunked_wins = True


def _honour_connection_close_and_date() -> None:
    """An answer whose app says ``Connection: close`` closes the connection under gunicorn too,
    and its ``Date`` is the app's.

    gunicorn drops the app's Connection header and keeps the connection alive; after an error
    answered before the upload body was read (``routes.body.body_left_unread``) it would then
    drain a body of any size, or read the unread bytes as the next request. It drops the app's
    ``Date`` as well and writes the wall clock's, so after ``POST /_ossemu/clock`` moved the
    emulator's time, ``Date`` disagreed with ``Last-Modified`` and with what ``--server
    werkzeug`` answers; ``send_headers`` (below) writes the app's instead.
    """
    from gunicorn.http.wsgi import Response

    if getattr(Response, "_ossemu_honours_close", False):
        return
    process = Response.process_headers

    def process_headers(self: Any, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            lower = name.lower()
            if lower == "date":
                self._ossemu_date = value
            elif lower == "connection" and value.strip().lower() == "close":
                self.force_close()
        process(self, headers)

    Response.process_headers = process_headers
    Response._ossemu_honours_close = True


def _deferring_continue(create: Any) -> Any:
    """gunicorn's environ builder, minus its immediate ``100 Continue`` (see expect_continue)."""

    def deferring(req: Any, sock: Any, *args: Any, **kwargs: Any) -> Any:
        asked = getattr(req, "_expected_100_continue", False)
        req._expected_100_continue = False
        resp, environ = create(req, sock, *args, **kwargs)
        if asked:
            expect_continue.defer(environ, lambda: sock.sendall(expect_continue.INTERIM))
            should_close = resp.should_close  # gunicorn drops the app's Connection header
            resp.should_close = lambda: should_close() or expect_continue.must_close(environ)
        return resp, environ

    deferring.defers_continue = True  # type: ignore[attr-defined]
    return deferring


def _head_rides_with_the_body() -> None:
    """The status line and headers leave in one TCP segment with the body's first bytes.

    gunicorn sends the head with a ``sendall`` of its own and the body with the next; with
    TCP_NODELAY each is a packet the client wakes for, so a 4 KiB GET cost two sends and two
    wake-ups (``bench/analysis.md``). ``MSG_MORE`` on the head asks the kernel to hold it for the
    body's write that follows at once; an answer without body bytes (HEAD, 204, an empty
    object, a head sent at close) sends its head as before, so nothing waits for the cork.
    """
    from gunicorn.http.wsgi import Response

    if getattr(Response, "_ossemu_head_rides", False):
        return
    write = Response.write

    def send_headers(self: Any) -> None:
        if self.headers_sent:
            return
        lines = self.default_headers()
        date = getattr(self, "_ossemu_date", None)  # checked by gunicorn's process_headers
        if date is not None:
            lines = [f"Date: {date}\r\n" if line.startswith("Date: ") else line for line in lines]
        lines.extend("%s: %s\r\n" % (k, v) for k, v in self.headers)  # noqa: UP031 - as gunicorn
        head = ("%s\r\n" % "".join(lines)).encode("latin-1")  # noqa: UP031
        more = getattr(self, "_ossemu_body_follows", False)
        self.sock.sendall(head, socket.MSG_MORE if more else 0)
        self.headers_sent = True

    def write_body(self: Any, arg: Any) -> None:
        if not self.headers_sent:
            self._ossemu_body_follows = (
                bool(arg)
                and not self._omits_body
                and (self.response_length is None or self.response_length > 0)
            )
        write(self, arg)

    Response.send_headers = send_headers
    Response.write = write_body
    Response._ossemu_head_rides = True


def _refusals_read_as_oss() -> None:
    """What gunicorn's parser refuses (a bad request line or header, a head past its limits) is
    answered as OSS answers it, not with gunicorn's HTML page (``refusals``)."""
    import gunicorn.util

    if getattr(gunicorn.util.write_error, "ossemu", False):
        return

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        try:
            host = sock.getsockname()[0]
        except (OSError, IndexError, TypeError):
            host = "localhost"
        gunicorn.util.write_nonblock(sock, refusals.refusal(status_int, host))

    write_error.ossemu = True  # type: ignore[attr-defined]
    gunicorn.util.write_error = write_error
