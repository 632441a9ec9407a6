"""Request parsing: the request as OSS sees it, and the argument readers handlers share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

from flask import Request

from ..protocol import addressing
from ..protocol.errors import BadRequest, OssError, invalid_argument
from ..protocol.http import header_text, parse_uint
from ..protocol.xml import MAX_XML_BODY
from ..services import services
from .body import read_capped, read_chunks, refuse_rest

STORED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)


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
        bucket, key = addressing.resolve(headers.get("host", ""), _path_of(environ), domain)
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
            _input_of(request),
            environ,
        )

    def body_chunks(self) -> Iterator[bytes]:
        """The body in bounded chunks, read under the configured idle limit and minimum rate."""
        config = services().config
        try:
            length = self.content_length(required=False)
        except OssError:  # a bad length is refused where it matters; here it only sets a deadline
            length = None
        return read_chunks(
            self.stream, self.environ, config.body_timeout or None, config.body_min_rate, length
        )

    def xml_body(self, limit: int = MAX_XML_BODY) -> bytes:
        """The XML document the request carries, refused with ``MalformedXML`` while it streams
        as soon as it runs past ``limit`` (and before reading, if its length says so)."""
        too_big = BadRequest("MalformedXML")
        length = self.content_length(required=False)
        if length is not None and length > limit:
            refuse_rest(self.environ)
            raise too_big
        return read_capped(self.body_chunks(), self.environ, limit, too_big)

    def content_length(self, *, required: bool = True) -> int | None:
        """Declared body length; None for chunked bodies; 411 when neither is given.

        With both headers the chunked framing wins and the length is ignored (RFC 9112 6.3, as
        OSS takes it from ali-oss); both servers close such a connection after the answer."""
        if self.headers.get("transfer-encoding", "").strip().lower() == "chunked":
            return None
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


def _input_of(request: Request) -> BinaryIO:
    """``request.stream``: the server's own input where it ends the body itself (gunicorn, and
    Werkzeug for a chunked body), as werkzeug would hand it over with no size limit set, without
    its lookups of the app's limit (~5 us of a 4 KiB PUT)."""
    environ = request.environ
    if "wsgi.input_terminated" in environ:
        return environ["wsgi.input"]
    return request.stream


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
    """Request headers with lower-case names, read straight from the WSGI environ; values as
    sent (UTF-8 read as UTF-8: :func:`header_text`)."""
    headers = {
        name[5:].replace("_", "-").lower(): header_text(value)
        for name, value in environ.items()
        if name.startswith("HTTP_") and name not in _NOT_HEADERS
    }
    for name, header in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if value := environ.get(name):
            headers[header] = header_text(value)
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
    """Content-Type as sent, else ``application/octet-stream``: OSS never guesses from the key
    (the SDKs guess on the client side; oss2's presigned-PUT test relies on it)."""
    return req.headers.get("content-type") or "application/octet-stream"


def forbid_overwrite(req: OssRequest) -> bool:
    return req.headers.get("x-oss-forbid-overwrite", "").lower() == "true"


def stored_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request headers OSS keeps with an object and returns on GET/HEAD.

    User metadata (names and values together) is capped at 8 KB, as on OSS (error centre
    0011-00000002): more could not even be read back, since clients refuse answers with that
    many or that long headers.
    """
    kept = {k: v for k, v in headers.items() if k in STORED_HEADERS or k.startswith("x-oss-meta-")}
    meta = sum(len(k) + len(v) for k, v in kept.items() if k.startswith("x-oss-meta-"))
    if meta > MAX_USER_METADATA:
        raise BadRequest("InvalidArgument", _METADATA_TOO_LARGE, ec="0011-00000002")
    return kept


MAX_USER_METADATA = 8 * 1024
_METADATA_TOO_LARGE = "Your metadata headers exceed the maximum allowed metadata size."


def own_url(req: OssRequest) -> str:
    """The emulator's own address: the configured public URL, else the bound one."""
    configured = services().config.public_url
    if configured:
        return configured.rstrip("/")
    host = req.environ.get("SERVER_NAME", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{req.environ.get('SERVER_PORT', '80')}"
