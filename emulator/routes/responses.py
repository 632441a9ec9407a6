"""Response building: XML documents, object headers, and the one renderer of every error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from ..access_log import request_id_of
from ..protocol.errors import OssError
from ..protocol.http import header_wire, http_date
from ..protocol.restore import restore_header
from ..storage import ObjectMeta, next_append_position
from .body import body_left_unread

log = logging.getLogger("ossemu")

# Werkzeug's own errors, as the OSS codes a client would get from real OSS.
_HTTP_TO_OSS = {
    400: "InvalidArgument",
    404: "NoSuchKey",
    405: "MethodNotAllowed",
    411: "MissingContentLength",
    413: "EntityTooLarge",
    416: "InvalidRange",
}

#: The one owner every bucket and object has here.
OWNER = [("ID", "ossemu"), ("DisplayName", "ossemu")]


def xml_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, headers=headers, content_type="application/xml")


def render_error(
    error: OssError, environ: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    """The one place an error becomes XML (or, for HEAD, the ``x-oss-err`` header); ``headers``
    go out with it (a 203 CallbackFailed also carries the stored object's ETag)."""
    request_id = request_id_of(environ)
    host_id = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost").split(":")[0]
    out = {**(headers or {}), **error.headers(request_id, host_id)}
    if body_left_unread(environ):
        out["Connection"] = "close"
    head = environ.get("REQUEST_METHOD") == "HEAD"
    response = xml_response(b"" if head else error.to_xml(request_id, host_id), error.status, out)
    if head:
        response.headers["Content-Length"] = "0"
    return response


def render_exception(
    error: Exception, environ: dict[str, Any], unexpected: Callable[[Exception], None]
) -> Response:
    """Any exception a request raised, as the answer OSS would give; ``unexpected`` is told of
    the ones that are bugs (they answer 500 InternalError and log a traceback)."""
    if isinstance(error, OssError):
        return render_error(error, environ)
    if isinstance(error, HTTPException):
        code = _HTTP_TO_OSS.get(error.code or 400, "InvalidArgument")
        return render_error(OssError(code), environ)
    if isinstance(error, ConnectionAbortedError):
        return Response(status=500)  # the socket is already closed: nobody reads this
    method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
    log.error("unexpected error handling %s %s", method, path, exc_info=error)
    unexpected(error)
    return render_error(OssError("InternalError"), environ)


def object_headers(meta: ObjectMeta) -> dict[str, str]:
    """GET/HEAD headers of a stored object; stored text goes back as the bytes it came in."""
    headers = {
        "ETag": f'"{meta.etag}"',
        "Last-Modified": http_date(meta.last_modified),
        "Content-Type": header_wire(meta.content_type),
        "Accept-Ranges": "bytes",
        "x-oss-object-type": meta.object_type,
        "x-oss-storage-class": meta.storage_class,
        "x-oss-hash-crc64ecma": str(meta.crc64),
        **{name: header_wire(value) for name, value in meta.headers.items()},
    }
    if meta.content_md5:
        headers["Content-MD5"] = meta.content_md5
    if meta.tags:
        headers["x-oss-tagging-count"] = str(len(meta.tags))
    if meta.restore is not None:
        headers["x-oss-restore"] = restore_header(meta.restore.ongoing, meta.restore.expires)
    position = next_append_position(meta)
    if position is not None:
        headers["x-oss-next-append-position"] = str(position)
    return headers


def upload_headers(meta: ObjectMeta) -> dict[str, str]:
    """Headers of a successful write (PutObject, Complete): also sent with a callback answer."""
    headers = {"ETag": f'"{meta.etag}"', "x-oss-hash-crc64ecma": str(meta.crc64)}
    if meta.content_md5:
        headers["Content-MD5"] = meta.content_md5
    # The server-side encryption asked for is echoed, as OSS does.
    headers.update({k: v for k, v in meta.headers.items() if k.startswith(_SSE)})
    return headers


_SSE = "x-oss-server-side-"
