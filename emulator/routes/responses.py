"""Response building: XML documents, object headers, and the one renderer of every error."""

from __future__ import annotations

from flask import Response, request

from ..access_log import request_id_of
from ..protocol.errors import OssError
from ..protocol.http import header_wire, http_date
from ..protocol.restore import restore_header
from ..storage import ObjectMeta, next_append_position
from .body import body_left_unread

#: The one owner every bucket and object has here.
OWNER = [("ID", "ossemu"), ("DisplayName", "ossemu")]


def xml_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, headers=headers, content_type="application/xml")


def render_error(error: OssError, headers: dict[str, str] | None = None) -> Response:
    """The one place an error becomes XML (or, for HEAD, the ``x-oss-err`` header); ``headers``
    go out with it (a 203 CallbackFailed also carries the stored object's ETag)."""
    request_id = request_id_of(request.environ)
    host_id = request.host.split(":")[0] if request else "localhost"
    out = {**(headers or {}), **error.headers(request_id, host_id)}
    if body_left_unread(request.environ):
        out["Connection"] = "close"
    body = b"" if request.method == "HEAD" else error.to_xml(request_id, host_id)
    response = xml_response(body, error.status, out)
    if request.method == "HEAD":
        response.headers["Content-Length"] = "0"
    return response


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
