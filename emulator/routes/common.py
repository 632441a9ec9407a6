"""What every handler shares: the parsed request, body streaming, response shapes."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

from flask import Request, Response, current_app

from ..callbacks import CallbackContext, CallbackSpec
from ..protocol.errors import BadRequest, CallbackFailed, OssError, invalid_argument
from ..protocol.http import http_date, parse_uint
from ..storage import ObjectMeta

if TYPE_CHECKING:
    from ..app import Services

CHUNK = 1024 * 1024
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "expires")


@dataclass
class OssRequest:
    """A request as OSS sees it: bucket and key resolved, query decoded, header names lower-case."""

    method: str
    bucket: str | None
    key: str | None
    query: list[tuple[str, str]]
    headers: dict[str, str]
    request_id: str
    client_ip: str
    stream: BinaryIO
    environ: dict[str, Any] = field(repr=False)

    @cached_property
    def args(self) -> dict[str, str]:
        """First value of each query parameter (OSS: 'if a param repeats, the first wins')."""
        out: dict[str, str] = {}
        for k, v in self.query:
            out.setdefault(k, v)
        return out

    @classmethod
    def from_flask(cls, request: Request, domain: str, request_id: str) -> OssRequest:
        environ = request.environ
        headers = _headers_of(environ)
        try:
            host = urlsplit("//" + headers.get("host", "")).hostname or ""
        except ValueError:  # "[::1" and the like: not a host, so path-style addressing
            host = ""
        path = _path_of(environ)
        bucket: str | None
        if domain and host.endswith("." + domain):
            bucket = host[: -len(domain) - 1]
            key: str | None = path[1:] or None
        else:
            bucket_part, _, rest = path[1:].partition("/")
            bucket = bucket_part or None
            key = rest or None
        if bucket is not None and not _is_utf8(bucket):
            raise BadRequest(
                "InvalidBucketName", BucketName=bucket.encode("utf-8", "replace").decode()
            )
        if key is not None and not _is_utf8(key):
            # OSS error centre 0016-00000004: the object name is not UTF-8.
            raise BadRequest(
                "InvalidObjectName", "The specified object is not valid.", ec=_NOT_UTF8
            )
        return cls(
            request.method,
            bucket,
            key,
            # As werkzeug's ``request.args`` parses it, without building a MultiDict.
            parse_qsl(request.query_string.decode(), True, errors="werkzeug.url_quote"),
            headers,
            request_id,
            environ.get("REMOTE_ADDR", ""),
            request.stream,
            environ,
        )

    def body_chunks(self) -> Iterator[bytes]:
        """The request body in bounded chunks; a client that stops mid-way is IncompleteBody.

        One that goes silent for ``body_timeout`` seconds gets 400 RequestTimeout, as from OSS:
        otherwise each stalled upload holds a server thread for ever, and a few of them leave
        gunicorn's fixed pool none for anybody else. The limit is a socket timeout, so it bounds
        the wait for each next byte, never the whole upload.
        """
        sock = _client_socket(self.environ)
        idle = services().config.body_timeout or None
        while True:
            try:
                with _idle_limit(sock, idle):
                    chunk = self.stream.read(CHUNK)
            # Only the read is guarded: the WSGI server raises its own types for a client that
            # disconnects or breaks chunked framing (Werkzeug: ClientDisconnected, OSError;
            # gunicorn: NoMoreData, InvalidChunkSize...), and each means the body never arrived.
            except Exception as error:
                if not _timed_out(error):
                    raise BadRequest("IncompleteBody") from None
                if sock is not None:
                    _stop_reading(sock)
                raise OssError("RequestTimeout") from None
            if not chunk:
                return
            yield chunk

    def content_length(self, *, required: bool = True) -> int | None:
        """Declared body length; None for chunked bodies; 411 when neither is given."""
        value = self.headers.get("content-length")
        if value is None:
            if "chunked" in self.headers.get("transfer-encoding", "").lower() or not required:
                return None
            raise OssError("MissingContentLength")
        length = parse_uint(value)
        if length is None:
            raise BadRequest(
                "InvalidArgument",
                "Content-Length is invalid.",
                ArgumentName="Content-Length",
                ArgumentValue=value,
            )
        return length


def _client_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The connection's socket, from the two servers we run under (others: no idle limit)."""
    return environ.get("gunicorn.socket") or environ.get("werkzeug.socket")


@contextlib.contextmanager
def _idle_limit(sock: socket.socket | None, seconds: float | None) -> Iterator[None]:
    """Reads on ``sock`` wait at most ``seconds`` for each next byte, then raise TimeoutError.

    The server's own setting comes back afterwards: it expects it for the response and for
    keep-alive (gunicorn: blocking while serving a request, non-blocking while idle).
    """
    if sock is None or seconds is None:
        yield
        return
    previous = sock.gettimeout()
    sock.settimeout(seconds)
    try:
        yield
    finally:
        sock.settimeout(previous)


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


_NOT_UTF8 = "0016-00000004"


def _path_of(environ: dict[str, Any]) -> str:
    """The request path as werkzeug's ``request.path`` has it, except that bytes which are not
    UTF-8 stay visible (as surrogate escapes) instead of turning into U+FFFD: a key holding them
    is refused, where U+FFFD would have stored some other, valid name."""
    raw = (environ.get("PATH_INFO") or "").encode("latin-1", "replace")
    path = raw.decode("utf-8", "surrogateescape")
    if "\ufffd" in path:  # Werkzeug's server has already replaced them: read the request line's
        uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        target = uri.partition("?")[0] if uri.startswith("/") else urlsplit(uri).path
        path = unquote_to_bytes(target).decode("utf-8", "surrogateescape")
    return "/" + path.lstrip("/")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _headers_of(environ: dict[str, Any]) -> dict[str, str]:
    """Request headers with lower-case names, read straight from the WSGI environ."""
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in environ.items()
        if name.startswith("HTTP_") and name not in _NOT_HEADERS
    }
    for name, header in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if value := environ.get(name):
            headers[header] = value
    return headers


_NOT_HEADERS = frozenset(("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"))


def int_arg(args: dict[str, str], name: str, default: int, maximum: int) -> int:
    """A bounded integer query parameter (max-keys, max-parts…); out of range is InvalidArgument."""
    value = args.get(name, "")
    if value == "":
        return default
    number = parse_uint(value)
    if number is None or not 1 <= number <= maximum:
        raise invalid_argument(
            f"Argument {name} must be an integer between 1 and {maximum}.", name, value
        )
    return number


def services() -> Services:
    return current_app.extensions["ossemu"]


def xml_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, headers=headers, content_type="application/xml")


def stored_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request headers OSS keeps with an object and returns on GET/HEAD."""
    return {k: v for k, v in headers.items() if k in STORED_HEADERS or k.startswith("x-oss-meta-")}


def object_headers(meta: ObjectMeta) -> dict[str, str]:
    """GET/HEAD headers of a stored object."""
    headers = {
        "ETag": f'"{meta.etag}"',
        "Last-Modified": http_date(meta.last_modified),
        "Content-Type": meta.content_type,
        "Accept-Ranges": "bytes",
        "x-oss-object-type": meta.object_type,
        "x-oss-storage-class": "Standard",
        "x-oss-hash-crc64ecma": str(meta.crc64),
        **meta.headers,
    }
    if meta.content_md5:
        headers["Content-MD5"] = meta.content_md5
    return headers


def upload_headers(meta: ObjectMeta) -> dict[str, str]:
    """Headers of a successful write (PutObject, Complete): also sent with a callback answer."""
    headers = {"ETag": f'"{meta.etag}"', "x-oss-hash-crc64ecma": str(meta.crc64)}
    if meta.content_md5:
        headers["Content-MD5"] = meta.content_md5
    return headers


def respond_after_upload(
    req: OssRequest, meta: ObjectMeta, spec: CallbackSpec | None, operation: str, default: Response
) -> Response:
    """Run the callback (if any) after the commit and map its outcome to 200 or 203."""
    if spec is None:
        return default
    svc = services()
    storage = svc.storage
    ctx = CallbackContext(
        bucket=meta.bucket,
        key=meta.key,
        etag=meta.etag,
        size=meta.size,
        mime_type=meta.content_type,
        crc64=meta.crc64,
        content_md5=meta.content_md5,
        client_ip=req.client_ip,
        request_id=req.request_id,
        operation=operation,
        open_data=lambda: storage.open_blob(meta),
    )
    outcome = svc.callbacks.deliver(spec, ctx, public_key_url=public_key_url(req))
    headers = upload_headers(meta)
    if outcome.ok:
        return Response(outcome.body, status=200, headers=headers, content_type="application/json")
    error = CallbackFailed(outcome.message)
    host_id = req.headers.get("host", "localhost").split(":")[0]
    headers.update(error.headers(req.request_id, host_id))
    return xml_response(error.to_xml(req.request_id, host_id), 203, headers)


def public_key_url(req: OssRequest) -> str:
    """Where receivers fetch the callback public key: the configured URL or our bound address."""
    configured = services().config.public_url
    if configured:
        return configured.rstrip("/") + "/_ossemu/callback-public-key.pem"
    host = req.environ.get("SERVER_NAME", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{req.environ.get('SERVER_PORT', '80')}/_ossemu/callback-public-key.pem"


def abort_connection(req: OssRequest) -> None:
    """Drop the client's connection mid-body (fault injection): read some, then hang up."""
    req.stream.read(64 * 1024)
    sock = req.environ.get("werkzeug.socket") or req.environ.get("gunicorn.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("connection dropped by an injected fault")
