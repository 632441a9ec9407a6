"""Request parsing: the request as OSS sees it, and the argument readers handlers share."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

from flask import Request

from ..callbacks import CallbackContext
from ..protocol.errors import BadRequest, OssError, invalid_argument
from ..protocol.http import parse_uint
from ..services import services
from ..storage import ObjectMeta
from .body import read_chunks

STORED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "expires",
    "x-oss-storage-class",
)
STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")


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
        """The body in bounded chunks, each read under the configured idle limit."""
        return read_chunks(self.stream, self.environ, services().config.body_timeout or None)

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


_NOT_UTF8 = "0016-00000004"
_BAD_CLASS = "0017-00000132"


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


def encoding_type(args: dict[str, str]) -> str | None:
    """``encoding-type``: ``url`` or absent; anything else is InvalidArgument, as on OSS."""
    enc = args.get("encoding-type") or None
    if enc not in (None, "url"):
        raise invalid_argument("The encoding-type argument is invalid.", "encoding-type", enc)
    return enc


def part_number(args: dict[str, str]) -> int:
    """``partNumber`` as an integer (its range is storage's check)."""
    raw = args.get("partNumber", "")
    number = parse_uint(raw)
    if number is None:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive.", "partNumber", raw
        )
    return number


def content_type_for(req: OssRequest) -> str:
    """Content-Type as sent, else guessed from the key's extension, as OSS does."""
    return (
        req.headers.get("content-type")
        or mimetypes.guess_type(req.key or "")[0]
        or "application/octet-stream"
    )


def forbid_overwrite(req: OssRequest) -> bool:
    return req.headers.get("x-oss-forbid-overwrite", "").lower() == "true"


def stored_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request headers OSS keeps with an object and returns on GET/HEAD."""
    storage_class = headers.get("x-oss-storage-class")
    if storage_class is not None and storage_class not in STORAGE_CLASSES:
        raise invalid_argument(
            "Invalid storage class.", "x-oss-storage-class", storage_class, ec=_BAD_CLASS
        )
    return {k: v for k, v in headers.items() if k in STORED_HEADERS or k.startswith("x-oss-meta-")}


def public_key_url(req: OssRequest) -> str:
    """Where receivers fetch the callback public key: the configured URL or our bound address."""
    configured = services().config.public_url
    if configured:
        return configured.rstrip("/") + "/_ossemu/callback-public-key.pem"
    host = req.environ.get("SERVER_NAME", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{req.environ.get('SERVER_PORT', '80')}/_ossemu/callback-public-key.pem"


def callback_context(req: OssRequest, meta: ObjectMeta, operation: str) -> CallbackContext:
    """What the callback body's ``${...}`` variables read about this committed upload."""
    store = services().storage
    return CallbackContext(
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
        open_data=lambda: store.open_blob(meta),
    )
