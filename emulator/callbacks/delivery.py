"""POST the rendered callback to each ``callbackUrl`` in turn until one succeeds, as OSS does.

One attempt per URL: no retries, no redirects, a per-URL time limit (OSS: 5 s, fixed). Like OSS's
``ehttp-client`` the request is HTTP/1.0 with ``Connection: close``, so an app server cannot
answer chunked and must send ``Content-Length``. ``http.client`` is used at the ``putrequest``
level for exact control of the bytes sent and a raw view of the answer (a missing
``Content-Length`` must be seen).
The answer is judged by OSS's rules and failures carry OSS's exact ``CallbackFailed`` messages
(docs/oss-protocol.md 5.1, 5.3). Where OSS's wording is unknown - the app closing the connection
without a valid HTTP answer - the message is ``Error status : -1.``. With several URLs all failing,
the last failure's message is reported. HTTPS certificates are not verified: local app servers use
self-signed ones. Every delivery is written to the journal, with what was sent and received.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import logging
import socket
import sqlite3
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import SplitResult, urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ..clock import WALL_CLOCK, Clock
from .answer import TOO_LONG, Failed, Http10Connection, OverBudget, judge
from .journal import CallbackJournal, body_field
from .signing import sign_callback
from .spec import CallbackSpec
from .template import CallbackContext, render_body

logger = logging.getLogger("ossemu.callbacks")

USER_AGENT = "ehttp-client/0.0.1"
CONNECT_FAILED = "Error status : -1.OSS can not connect to your callbackUrl, please check it."
NO_REPLY = "Error status : -1."


@dataclass(frozen=True)
class CallbackOutcome:
    """How a delivery ended; the route turns it into 200 + ``body`` or 203 ``CallbackFailed``."""

    ok: bool  # the app answered 200 with valid JSON within the limits
    status: int | None  # the app's status, None when there was no answer
    body: bytes  # the app's body, relayed verbatim on success
    message: str  # on failure: OSS's exact CallbackFailed message
    attempts: tuple[dict[str, Any], ...]
    journal_id: int | None = None  # the delivery's journal entry (None: it could not be written)


class CallbackEngine:
    """Renders, signs and delivers callbacks; safe to share between request threads."""

    def __init__(
        self,
        private_key: RSAPrivateKey,
        journal: CallbackJournal,
        *,
        timeout: float = 5.0,
        strict_urls: bool = False,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        self._key = private_key
        self._journal = journal
        self._timeout = timeout
        self._strict = strict_urls
        self._clock = clock

    @property
    def public_key(self) -> RSAPublicKey:
        """The half that verifies this engine's signatures."""
        return self._key.public_key()

    def deliver(
        self, spec: CallbackSpec, ctx: CallbackContext, *, public_key_url: str
    ) -> CallbackOutcome:
        """Try each URL of ``spec`` until the app accepts the callback; journal the delivery."""
        when = self._clock.now()
        about = {"operation": ctx.operation, "request_id": ctx.request_id}
        return self.send(
            spec, render_body(spec, ctx), ctx.bucket, ctx.key, about, public_key_url, when
        )

    def send(
        self,
        spec: CallbackSpec,
        body: bytes,
        bucket: str,
        key: str,
        about: dict[str, Any],
        public_key_url: str,
        when: float | None = None,
    ) -> CallbackOutcome:
        """Deliver an already rendered ``body`` (a replay sends a journalled one again), signed
        afresh; ``about`` (operation, request_id, what it replays) goes into the journal."""
        if not spec.urls:
            raise ValueError("a callback needs at least one URL")
        started = time.monotonic()
        stamp = datetime.fromtimestamp(self._clock.now() if when is None else when, timezone.utc)
        key_url = base64.b64encode(public_key_url.encode()).decode("ascii")
        attempts: list[dict[str, Any]] = []
        status: int | None = None
        reply = b""
        for url in spec.urls:
            record, status, reply = self._attempt(url, spec, body, key_url)
            attempts.append(record)
            if record["ok"]:
                break
        last = attempts[-1]
        entry = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "bucket": bucket,
            "key": key,
            **about,
            "callback": {
                "urls": list(spec.urls),
                "host": spec.host,
                "body_type": spec.body_type,
                "sni": spec.sni,
            },
            "attempts": attempts,
            "outcome": "ok" if last["ok"] else "failed",
            "message": last["message"],
            "duration_ms": _ms(time.monotonic() - started),
        }
        entry_id = self._record(entry)
        return CallbackOutcome(
            last["ok"], status, reply, last["message"], tuple(attempts), entry_id
        )

    def _record(self, entry: dict[str, Any]) -> int | None:
        logger.info(
            "callback %s %s/%s %s: %s (%s ms, %d url%s tried)",
            entry["operation"],
            entry["bucket"],
            entry["key"],
            entry["outcome"],
            entry["message"] or "200",
            entry["duration_ms"],
            len(entry["attempts"]),
            "" if len(entry["attempts"]) == 1 else "s",
            extra={
                "bucket": entry["bucket"],
                "key": entry["key"],
                "outcome": entry["outcome"],
                "duration_ms": entry["duration_ms"],
                "request_id": entry["request_id"],
            },
        )
        # The uploader's answer must not depend on the diagnostics store being writable.
        try:
            return self._journal.record(entry)
        except (sqlite3.Error, OSError):
            logger.exception(
                "could not journal the callback for %s/%s", entry["bucket"], entry["key"]
            )
            return None

    def _attempt(
        self, url: str, spec: CallbackSpec, body: bytes, key_url: str
    ) -> tuple[dict[str, Any], int | None, bytes]:
        parts = urlsplit(url)
        path = parts.path or "/"
        target = path + (f"?{parts.query}" if parts.query else "")
        record: dict[str, Any] = {"url": url, "address": None, "request": None, "response": None}
        started = time.monotonic()
        deadline = started + self._timeout
        status: int | None
        try:
            sock: socket.socket | None = self._open(parts, spec, deadline, record)
        except Failed as failure:
            sock, refused = None, failure
        # Signed once the connection is open, so the app server accepts it meanwhile.
        headers = [
            ("Host", spec.host or parts.netloc),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", spec.body_type),
            ("User-Agent", USER_AGENT),
            ("authorization", sign_callback(self._key, path, parts.query, body)),
            ("x-oss-pub-key-url", key_url),
        ]
        record["request"] = {
            "method": "POST",
            "target": target,
            "version": "HTTP/1.0",
            "headers": [list(header) for header in headers],
            **body_field(body),
        }
        try:
            if sock is None:
                raise refused
            status, reply = self._exchange(sock, target, headers, body, record, deadline)
            record.update(ok=True, message="", error=None)
        except Failed as failure:
            status, reply = failure.status, failure.body
            record.update(ok=False, message=failure.message, error=failure.detail)
        record["duration_ms"] = _ms(time.monotonic() - started)
        return record, status, reply

    def _open(
        self, parts: SplitResult, spec: CallbackSpec, deadline: float, record: dict[str, Any]
    ) -> socket.socket:
        """The connection to one URL, TLS included, every later call on it bounded by
        ``deadline``."""
        tls = parts.scheme == "https"
        sock = self._connect(
            parts.hostname or "", parts.port or (443 if tls else 80), deadline, record
        )
        if tls:
            try:
                sock = _wrap_tls(sock, spec, parts.hostname or "")
            except TimeoutError:
                raise self._timeout_failure(record) from None
        sock.deadline = deadline  # type: ignore[attr-defined]
        return sock

    def _exchange(
        self,
        sock: socket.socket,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        record: dict[str, Any],
        deadline: float,
    ) -> tuple[int, bytes]:
        connection = Http10Connection("callback", 80)  # the socket is already connected
        connection.sock = sock
        try:
            connection.putrequest("POST", target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body)
            return judge(connection.getresponse(), record)
        except Failed:
            # A read cut by the deadline may look like a short or missing answer.
            if time.monotonic() >= deadline:
                raise self._timeout_failure(record) from None
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if isinstance(exc, TimeoutError) or time.monotonic() >= deadline:
                raise self._timeout_failure(record) from None
            if isinstance(exc, OverBudget):
                raise Failed(TOO_LONG, str(exc)) from None
            raise Failed(NO_REPLY, _describe(exc)) from None
        finally:
            connection.close()
            sock.close()

    def _connect(
        self, host: str, port: int, deadline: float, record: dict[str, Any]
    ) -> socket.socket:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Failed(CONNECT_FAILED, f"cannot resolve {host}: {exc}") from None
        if self._strict:
            for info in infos:
                ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
                if ip.version == 6 or not ip.is_global or ip.is_multicast:
                    raise Failed(
                        CONNECT_FAILED,
                        f"{host} resolves to {ip}, which OSS does not call back (strict_urls)",
                    )
        error: OSError | None = None
        for family, _, _, _, address in infos:
            record["address"] = ":".join(map(str, address[:2]))
            sock = _BoundedSocket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                sock.connect(address)
                return sock
            except TimeoutError:
                sock.close()
                raise self._timeout_failure(record) from None
            except OSError as exc:
                sock.close()
                error = exc
        raise Failed(CONNECT_FAILED, _describe(error) if error else f"no address for {host}")

    def _timeout_failure(self, record: dict[str, Any]) -> Failed:
        limit = _ms(self._timeout)
        message = (
            f"Error status : -1 {record['address']} reply timeout, cost:{limit}ms, "
            f"timeout:{limit}ms (err -4, errno115)"
        )
        return Failed(message, f"no complete answer within {limit} ms")


class _Bounded:
    """Socket calls bounded by what is left of one deadline for the whole exchange: OSS's limit
    holds against an app server that drips its answer a byte at a time (a timeout per call
    would start again with each byte), with no watchdog thread per callback (starting one cost
    0.25 ms here, an eighth of a callback). These are the calls the exchange makes: http.client
    reads through ``recv_into`` and writes with ``sendall``, which TLS carries out by ``send``."""

    deadline: float | None = None  # until set, calls keep the socket's own timeout

    def _bound(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the callback's time limit has passed")
        self.settimeout(left)  # type: ignore[attr-defined]

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        self._bound()
        return super().recv_into(*args, **kwargs)  # type: ignore[misc]

    def send(self, *args: Any, **kwargs: Any) -> int:
        self._bound()
        return super().send(*args, **kwargs)  # type: ignore[misc]

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        self._bound()
        return super().sendall(*args, **kwargs)  # type: ignore[misc]


class _BoundedSocket(_Bounded, socket.socket):
    pass


class _BoundedSSLSocket(_Bounded, ssl.SSLSocket):
    pass


def _wrap_tls(sock: socket.socket, spec: CallbackSpec, url_host: str) -> socket.socket:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.sslsocket_class = _BoundedSSLSocket
    server_name = urlsplit(f"//{spec.host}").hostname if spec.host else url_host
    try:
        return context.wrap_socket(sock, server_hostname=server_name if spec.sni else None)
    except OSError as exc:
        sock.close()
        if isinstance(exc, TimeoutError):
            raise
        raise Failed(CONNECT_FAILED, f"TLS handshake failed: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
