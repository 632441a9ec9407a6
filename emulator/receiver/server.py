"""The receiver's HTTP side: one threaded server, and per-test scopes under ``/_t/<token>``.

A scope is how the pytest plugin makes callback tests cheap: one server per session, and per test
only a new URL prefix (``scope()``) with its own log, errors and reply; ``close()`` is instant. A
callback that reaches a closed or unknown scope is answered 404 and recorded nowhere, so a late
callback from one test never shows in the next.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from .inbox import Inbox, Recorder
from .records import ReceivedCallback, Reply, json_or_none

_MAX_BODY = 8 * 1024 * 1024
SCOPE_PREFIX = "/_t/"


class CallbackReceiver(Recorder):
    """A threaded HTTP server that plays the app server behind ``callbackUrl``.

    ``trusted_key_url_prefixes`` replaces the SDK's default trusted public-key URL prefixes
    (``None`` keeps them); ``also_trust`` adds to them. Paths under ``fail_prefix`` (e.g.
    ``"/fail/"``) answer 500, so a shell user can see OSS's 203 ``CallbackFailed``.
    ``pages`` answers GET requests before they count as callbacks (None: not its page), so the
    receiver can also play the app server's web side (``ossemu dev``'s direct-upload page).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        trusted_key_url_prefixes: Sequence[str] | None = None,
        also_trust: Sequence[str] = (),
        echo: bool = False,
        verify: bool = True,
        on_callback: Callable[[ReceivedCallback], None] | None = None,
        fail_prefix: str | None = None,
        pages: Callable[[str], Reply | None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.trusted_key_url_prefixes = (
            None if trusted_key_url_prefixes is None else tuple(trusted_key_url_prefixes)
        )
        self.also_trust = tuple(also_trust)
        self.echo, self.verify, self.on_callback = echo, verify, on_callback
        self.fail_prefix = fail_prefix
        self.pages = pages
        self._inbox = Inbox()
        self._scopes: dict[str, Inbox] = {}
        self._scopes_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> CallbackReceiver:
        """Bind and serve in a daemon thread (raises ``OSError`` when the port is taken)."""
        if self._server is None:
            server_class = _Server6 if ":" in self.host else _Server
            self._server = server_class((self.host, self.port), _Handler)
            self._server.receiver = self
            self.port = self._server.server_address[1]
            self._inbox.closed.clear()
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name=f"callback-receiver-{self.port}",
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; delayed answers are cut short."""
        if self._server is not None:
            self._inbox.closed.set()
            with self._scopes_lock:
                for inbox in self._scopes.values():
                    inbox.closed.set()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> CallbackReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def scope(self) -> ReceiverScope:
        """A fresh URL prefix on this server with its own log, errors and reply."""
        token = uuid.uuid4().hex[:16]
        inbox = Inbox()
        with self._scopes_lock:
            self._scopes[token] = inbox
        return ReceiverScope(self, token, inbox)

    def _close_scope(self, token: str) -> None:
        with self._scopes_lock:
            inbox = self._scopes.pop(token, None)
        if inbox is not None:
            inbox.closed.set()

    def _route(self, wire_path: str) -> tuple[Inbox | None, str]:
        """The inbox a request target belongs to, and the target relative to it."""
        if not wire_path.startswith(SCOPE_PREFIX):
            return self._inbox, wire_path
        token, slash, rest = wire_path[len(SCOPE_PREFIX) :].partition("/")
        token, query_mark, query = token.partition("?")
        rest = (slash + rest) if slash else ""
        relative = (rest or "/") + (query_mark + query if query_mark else "")
        with self._scopes_lock:
            return self._scopes.get(token), relative

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.pages is not None and handler.command == "GET":
            try:
                page = self.pages(handler.path)
            except Exception as exc:
                page = _reject(500, f"page error: {exc!r}")
            if page is not None:
                _send(handler, page)
                return
        inbox, relative = self._route(handler.path)
        if inbox is None:
            _send(handler, _reject(404, "no test is waiting at this URL (its scope closed)"))
            return
        try:
            callback = self._receive(handler, relative)
            reply = inbox.record(callback)
            if self.on_callback is not None:
                self.on_callback(callback)
            self._answer(handler, inbox, callback, reply)
        except Exception as exc:
            inbox.record_error(exc)
            with contextlib.suppress(OSError):
                handler.send_error(500, f"receiver error: {exc!r}")

    def _receive(self, handler: BaseHTTPRequestHandler, relative: str) -> ReceivedCallback:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        length = headers.get("content-length", "0").strip()
        size = int(length) if length.isascii() and length.isdigit() else 0
        body = handler.rfile.read(min(size, _MAX_BODY)) if size else b""
        path, _, query = relative.partition("?")
        rejected = None
        if handler.command != "POST":
            rejected = f"unsupported method {handler.command}"
        elif self.verify:
            rejected = self._signature_problem(handler.path, headers, body)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        return ReceivedCallback(
            method=handler.command,
            path=path,
            target=relative,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=body,
            form=(
                dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                if media_type == "application/x-www-form-urlencoded"
                else None
            ),
            json=json_or_none(body) if media_type == "application/json" else None,
            verified=self.verify and rejected is None,
            rejected=rejected,
            time=time.time(),
            wire_target=handler.path,
        )

    def _signature_problem(self, target: str, headers: dict[str, str], body: bytes) -> str | None:
        """Checked with the SDK's :mod:`ossemu.client.callback_verify`, imported here, only
        when verifying: a receiver that only records (or is just starting) never loads the SDK
        and its ``requests``."""
        from ossemu.client import callback_verify as cv

        if not headers.get("authorization"):
            return "unsigned: no authorization header"
        url = cv.public_key_url(headers)
        if url is None:
            return "no readable x-oss-pub-key-url header"
        trusted = self.trusted_key_url_prefixes
        if trusted is None:
            trusted = cv.DEFAULT_TRUSTED_PREFIXES
        if not cv.is_trusted_key_url(url, (*trusted, *self.also_trust)):
            return f"untrusted public key URL {url}"
        try:
            pem = cv.fetch_public_key(url)
        except Exception as exc:  # any failure to get the key means "cannot verify"
            return f"cannot fetch the public key from {url}: {exc}"
        if not cv.verify_callback_request(target, headers, body, public_key_pem=pem):
            return "the signature does not match"
        return None

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        inbox: Inbox,
        callback: ReceivedCallback,
        reply: Reply,
    ) -> None:
        if callback.rejected is not None:
            reply = _reject(501 if callback.method != "POST" else 400, callback.rejected)
        elif self.fail_prefix is not None and callback.path.startswith(self.fail_prefix):
            reply = _reject(500, f"paths under {self.fail_prefix} fail (fail_prefix)")
        elif self.echo:
            echoed = callback.form if callback.form is not None else callback.json
            reply = replace(reply, body=json.dumps(echoed).encode())
        if reply.delay and (inbox.closed.wait(reply.delay) or self._inbox.closed.is_set()):
            return
        _send(handler, reply)


class ReceiverScope(Recorder):
    """One test's view of a shared receiver: ``url`` ends in ``/_t/<token>``; ``close()``."""

    def __init__(self, receiver: CallbackReceiver, token: str, inbox: Inbox) -> None:
        self.receiver, self.token, self._inbox = receiver, token, inbox

    @property
    def url(self) -> str:
        return f"{self.receiver.url}{SCOPE_PREFIX}{self.token}"

    @property
    def host(self) -> str:
        return self.receiver.host

    @property
    def port(self) -> int:
        return self.receiver.port

    def close(self) -> None:
        """Stop recording here: later callbacks get 404, delayed answers are cut short."""
        self.receiver._close_scope(self.token)


def _reject(status: int, message: str) -> Reply:
    return Reply(status, json.dumps({"Status": "Error", "Message": message}).encode())


def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    try:
        handler.send_response(reply.status)
        if reply.content_type is not None:
            handler.send_header("Content-Type", reply.content_type)
        if reply.content_length is True:
            handler.send_header("Content-Length", str(len(reply.body)))
        elif reply.content_length is not False:
            handler.send_header("Content-Length", str(reply.content_length))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(reply.body)
    except OSError:
        pass  # the caller gave up (timeout); nothing to answer


class _Handler(BaseHTTPRequestHandler):
    def version_string(self) -> str:
        return "ossemu-receiver"

    def _dispatch(self) -> None:
        self.close_connection = True
        self.server.receiver._handle(self)  # type: ignore[attr-defined]

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the receiver's log is ``.log``, not stderr."""


class _Server(ThreadingHTTPServer):
    receiver: CallbackReceiver
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError):
            self.receiver._inbox.record_error(error)


class _Server6(_Server):
    address_family = socket.AF_INET6
