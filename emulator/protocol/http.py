"""HTTP semantics OSS shares with the web: dates, ranges, conditional requests. Pure functions."""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import random
import re
import time
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import unquote

from .errors import OssError, invalid_argument

_RANGE_RE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
_UINT_RE = re.compile(r"[0-9]{1,18}")  # 18 digits: every value fits a SQLite INTEGER


def http_date(epoch: float) -> str:
    """RFC 1123 with a two-digit day, as oss2's parser insists on."""
    return _http_date(math.floor(epoch))


@functools.lru_cache(maxsize=4096)
def _http_date(second: int) -> str:
    # Two per response (Date, Last-Modified), each ~3 us uncached; the text changes once a second.
    return formatdate(second, usegmt=True)


def iso8601(epoch: float) -> str:
    """``2012-02-23T07:01:34.000Z``: oss2 requires the literal ``.000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def parse_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_uint(value: str | None) -> int | None:
    """A non-negative decimal of ASCII digits, else None.

    ``str.isdigit`` also accepts '²' and '١', which ``int()`` then refuses or reads as 1, and a
    5,000-digit string makes ``int()`` raise: both were 500s.
    """
    return int(value) if value is not None and _UINT_RE.fullmatch(value) else None


def check_content_md5(body: bytes, header: str | None) -> None:
    """A small in-memory body (an XML request) against its ``Content-MD5``: else InvalidDigest."""
    if header is not None and header != base64.b64encode(hashlib.md5(body).digest()).decode():
        raise OssError("InvalidDigest", **{"Content-MD5": header})


def new_request_id() -> str:
    """24 uppercase hex characters, the shape of OSS's ``x-oss-request-id``.

    A name for one request, not a secret: from ``random`` (reseeded in each forked worker),
    as ``os.urandom`` made a system call on every request."""
    return f"{random.getrandbits(96):024X}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` -> inclusive (start, end), or None to send the whole object.

    OSS ignores a malformed or multi-range header and returns 200 with the whole object; a
    well-formed range that starts past the end is 416 ``InvalidRange``.
    """
    if not header:
        return None
    m = _RANGE_RE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = (_bounded(g) for g in m.groups())
    if not first:  # suffix range: the last N bytes; an empty object has none to give
        n = int(last)
        if n == 0 or size == 0:
            raise OssError("InvalidRange", ActualObjectSize=str(size), RangeRequested=header)
        return max(size - n, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise OssError("InvalidRange", ActualObjectSize=str(size), RangeRequested=header)
    return start, min(end, size - 1)


def check_preconditions(headers: dict[str, str], etag: str, last_modified: float) -> int | None:
    """Evaluate If-Match & co.; returns 304 for a GET that needs no body, raises 412, else None."""
    quoted = f'"{etag}"'

    def matches(value: str) -> bool:
        tags = [t.strip() for t in value.split(",")]
        return "*" in tags or quoted in tags or etag in tags

    if (v := headers.get("if-match")) is not None and not matches(v):
        raise OssError("PreconditionFailed", Condition="If-Match")
    if (v := headers.get("if-unmodified-since")) is not None:
        since = parse_http_date(v)
        if since is not None and int(last_modified) > since:
            raise OssError("PreconditionFailed", Condition="If-Unmodified-Since")
    if (v := headers.get("if-none-match")) is not None and matches(v):
        return 304
    if (v := headers.get("if-modified-since")) is not None:
        since = parse_http_date(v)
        if since is not None and int(last_modified) <= since:
            return 304
    return None


def _bounded(digits: str) -> str:
    """Past 18 digits a number exceeds any object: read it as "huge" instead of converting it."""
    digits = digits.lstrip("0") or digits[:1]
    return digits if len(digits) <= 18 else "9" * 18


def header_text(wire: str) -> str:
    """A request header value as its sender wrote it.

    WSGI hands header bytes over as latin-1, one character per byte. Clients that send
    ``x-oss-meta-u: 测试`` send UTF-8 and sign those bytes, so UTF-8 is read as UTF-8; other
    bytes keep one character each (what the server read before, and still verifies).
    """
    if wire.isascii():
        return wire
    try:
        return wire.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return wire


def header_wire(text: str) -> str:
    """Text as a WSGI response header string: its UTF-8 bytes, one latin-1 character each."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("latin-1")


def parse_copy_source(header: str) -> tuple[str, str]:
    """``x-oss-copy-source: /bucket/key`` (URL-encoded; a ``?versionId=`` tail is ignored) ->
    (bucket, key), for CopyObject, UploadPartCopy and the checks that authorise them."""
    path = header.split("?versionId=", 1)[0]
    src_bucket, _, src_key = unquote(path).lstrip("/").partition("/")
    if not src_bucket or not src_key:
        raise invalid_argument(
            "Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.",
            "x-oss-copy-source",
            header,
        )
    return src_bucket, src_key
