"""A stand-in app server for upload callbacks: it records, verifies and answers as told.

Tests start one on ``127.0.0.1:0``, point ``callbackUrl`` at ``receiver.url``, then assert on
``receiver.log``. Each callback's signature is checked with :mod:`client.callback_verify` (keys
fetched only from trusted URL prefixes); a bad or missing signature gets 400, as Alibaba's sample
server does, and is logged as rejected. ``ossemu receiver`` runs the same thing from a shell.
Stdlib ``http.server`` only, so it starts in milliseconds and never needs Flask.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from ossemu.client.callback_verify import (
    DEFAULT_TRUSTED_PREFIXES,
    fetch_public_key,
    is_trusted_key_url,
    public_key_url,
    verify_callback_request,
)

DEFAULT_BODY = b'{"Status":"OK"}'
_MAX_BODY = 8 * 1024 * 1024
_ATTRIBUTES = ("path", "method", "verified", "rejected")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ReceivedCallback:
    """One request as the receiver saw it; ``form``/``json`` are parsed per Content-Type."""

    method: str
    path: str
    target: str  # the raw request target: path plus ?query, as sent
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form: dict[str, str] | None
    json: Any | None
    verified: bool
    rejected: str | None
    time: float


@dataclass(frozen=True)
class _Reply:
    status: int = 200
    body: bytes = DEFAULT_BODY
    delay: float = 0.0
    content_type: str | None = "application/json"
    content_length: bool | str = True
    headers: dict[str, str] = field(default_factory=dict)


_MISSING = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


class CallbackReceiver:
    """A threaded HTTP server that plays the app server behind ``callbackUrl``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        trusted_key_url_prefixes: Sequence[str] = DEFAULT_TRUSTED_PREFIXES,
        echo: bool = False,
        verify: bool = True,
        on_callback: Callable[[ReceivedCallback], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.trusted_key_url_prefixes = tuple(trusted_key_url_prefixes)
        self.echo, self.verify, self.on_callback = echo, verify, on_callback
        self._lock = threading.Condition()
        self._log: list[ReceivedCallback] = []
        self._errors: list[BaseException] = []
        self._reply = _Reply()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> CallbackReceiver:
        """Bind and serve in a daemon thread (raises ``OSError`` when the port is taken)."""
        if self._server is None:
            server_class = _Server6 if ":" in self.host else _Server
            self._server = server_class((self.host, self.port), _Handler)
            self._server.receiver = self
            self.port = self._server.server_address[1]
            self._stopping.clear()
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
            self._stopping.set()
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

    @property
    def log(self) -> list[ReceivedCallback]:
        with self._lock:
            return list(self._log)

    def respond_with(
        self,
        status: int = 200,
        body: bytes = DEFAULT_BODY,
        *,
        delay: float = 0.0,
        content_type: str | None = "application/json",
        content_length: bool | str = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        """How to answer every following callback; ``content_length`` may be a raw value."""
        with self._lock:
            self._reply = _Reply(
                status, body, delay, content_type, content_length, dict(headers or {})
            )

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedCallback]:
        """The first ``n`` callbacks, waiting for them to arrive."""
        with self._lock:
            arrived = self._lock.wait_for(lambda: len(self._log) >= n, timeout)
            log = list(self._log)
        self.check()
        if not arrived:
            lines = [f"expected {n} callbacks within {timeout}s, got {len(log)}"]
            lines += [f"  {_summary(callback)}" for callback in log]
            raise AssertionError("\n".join(lines))
        return log[:n]

    def assert_received(self, **fields: Any) -> ReceivedCallback:
        """The first callback whose path/method/verified/rejected or form, JSON or query
        fields equal ``fields``; otherwise AssertionError listing the nearest misses."""
        self.check()
        misses = []
        for callback in self.log:
            wrong = {name: _field(callback, name) for name in fields}
            wrong = {name: value for name, value in wrong.items() if value != fields[name]}
            if not wrong:
                return callback
            misses.append((len(wrong), callback, wrong))
        misses.sort(key=lambda miss: miss[0])
        lines = [f"no callback matched {fields!r} ({len(misses)} received)"]
        for _, callback, wrong in misses[:5]:
            diffs = ", ".join(
                f"{name}={value!r} (want {fields[name]!r})" for name, value in wrong.items()
            )
            lines.append(f"  {callback.method} {callback.path}: {diffs}")
        raise AssertionError("\n".join(lines))

    def check(self) -> None:
        """Re-raise the first error raised in the server thread."""
        with self._lock:
            error = self._errors[0] if self._errors else None
        if error is not None:
            raise error

    def clear(self) -> None:
        """Forget callbacks and errors and go back to answering ``{"Status":"OK"}``."""
        with self._lock:
            self._log.clear()
            self._errors.clear()
            self._reply = _Reply()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            callback = self._receive(handler)
            with self._lock:
                self._log.append(callback)
                reply = self._reply
                self._lock.notify_all()
            if self.on_callback is not None:
                self.on_callback(callback)
            self._answer(handler, callback, reply)
        except Exception as exc:
            self._record_error(exc)
            with contextlib.suppress(OSError):
                handler.send_error(500, f"receiver error: {exc!r}")

    def _record_error(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)
            self._lock.notify_all()

    def _receive(self, handler: BaseHTTPRequestHandler) -> ReceivedCallback:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        length = headers.get("content-length", "0").strip()
        size = int(length) if length.isascii() and length.isdigit() else 0
        body = handler.rfile.read(min(size, _MAX_BODY)) if size else b""
        path, _, query = handler.path.partition("?")
        rejected = None
        if handler.command != "POST":
            rejected = f"unsupported method {handler.command}"
        elif self.verify:
            rejected = self._signature_problem(handler.path, headers, body)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        return ReceivedCallback(
            method=handler.command,
            path=path,
            target=handler.path,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=body,
            form=(
                dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                if media_type == "application/x-www-form-urlencoded"
                else None
            ),
            json=_json_or_none(body) if media_type == "application/json" else None,
            verified=self.verify and rejected is None,
            rejected=rejected,
            time=time.time(),
        )

    def _signature_problem(self, target: str, headers: dict[str, str], body: bytes) -> str | None:
        if not headers.get("authorization"):
            return "unsigned: no authorization header"
        url = public_key_url(headers)
        if url is None:
            return "no readable x-oss-pub-key-url header"
        if not is_trusted_key_url(url, self.trusted_key_url_prefixes):
            return f"untrusted public key URL {url}"
        try:
            pem = fetch_public_key(url)
        except Exception as exc:  # any failure to get the key means "cannot verify"
            return f"cannot fetch the public key from {url}: {exc}"
        if not verify_callback_request(target, headers, body, public_key_pem=pem):
            return "the signature does not match"
        return None

    def _answer(
        self, handler: BaseHTTPRequestHandler, callback: ReceivedCallback, reply: _Reply
    ) -> None:
        if callback.rejected is not None:
            status = 501 if callback.method != "POST" else 400
            reply = _Reply(
                status, json.dumps({"Status": "Error", "Message": callback.rejected}).encode()
            )
        elif self.echo:
            echoed = callback.form if callback.form is not None else callback.json
            reply = replace(reply, body=json.dumps(echoed).encode())
        if reply.delay and self._stopping.wait(reply.delay):
            return
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

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError):
            self.receiver._record_error(error)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _json_or_none(body: bytes) -> Any | None:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _field(callback: ReceivedCallback, name: str) -> Any:
    if name in _ATTRIBUTES:
        return getattr(callback, name)
    for source in (callback.json, callback.form, callback.query):
        if isinstance(source, dict) and name in source:
            return source[name]
    return _MISSING


def _summary(callback: ReceivedCallback) -> str:
    verdict = "verified" if callback.verified else f"rejected ({callback.rejected})"
    if not callback.verified and callback.rejected is None:
        verdict = "unverified"
    text = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}", callback.body.decode("utf-8", "replace")
    )
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{callback.method} {callback.path} {verdict} {text}"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _status(text: str) -> int:
    if not text.isdigit() or not 100 <= int(text) <= 599:
        raise argparse.ArgumentTypeError(f"{text!r} is not an HTTP status (100-599)")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """``ossemu receiver``: print each callback until Ctrl-C; exit 2 on errors."""
    parser = _Parser(prog="ossemu receiver", description="Receive and verify OSS callbacks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=23450)
    parser.add_argument("--echo", action="store_true", help="answer the received fields as JSON")
    parser.add_argument(
        "--trust-key-url",
        action="append",
        default=[],
        metavar="PREFIX",
        help="also fetch public keys from URLs starting with PREFIX",
    )
    parser.add_argument("--status", type=_status, default=200, help="HTTP status to answer")
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"ossemu receiver: error: {exc}", file=sys.stderr, flush=True)
        return 2
    receiver = CallbackReceiver(
        args.host,
        args.port,
        echo=args.echo,
        trusted_key_url_prefixes=(*DEFAULT_TRUSTED_PREFIXES, *args.trust_key_url),
        on_callback=lambda callback: print(_summary(callback), flush=True),
    )
    receiver.respond_with(status=args.status)
    try:
        receiver.start()
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        print(
            f"ossemu receiver: error: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
            flush=True,
        )
        return 2
    print(f"ossemu receiver listening on {receiver.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
