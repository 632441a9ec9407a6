"""Object-level operations."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from flask import Response
from werkzeug.wsgi import wrap_file

from ..callbacks import parse_callback
from ..iam import authorize as iam
from ..protocol.errors import invalid_argument
from ..protocol.http import (
    check_content_md5,
    check_preconditions,
    http_date,
    parse_copy_source,
    parse_range,
)
from ..protocol.object_options import tagging_directive
from ..protocol.xml import (
    MAX_DELETE_BODY,
    encode_key,
    etag,
    parse_delete_keys,
    render,
    timestamp,
)
from ..services import services, storage
from ..storage import ObjectMeta
from .acl import upload_acl
from .download import ExactFile
from .options import check_traffic_limit, upload_options
from .parsing import (
    OssRequest,
    content_type_for,
    encoding_type,
    forbid_overwrite,
    stored_headers,
)
from .responses import object_headers, upload_headers, xml_response
from .upload_callback import callback_answer

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# CopyObject's x-oss-copy-source-<condition> headers: 412 or 304, as If-Match & co. on GET.
_COPY_IFS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
RESPONSE_OVERRIDES = {
    f"response-{h}": h.title()
    for h in (
        "content-type",
        "content-language",
        "expires",
        "cache-control",
        "content-disposition",
        "content-encoding",
    )
}


def put_object(req: OssRequest) -> Response:
    """PutObject (and CopyObject when ``x-oss-copy-source`` is set):
    https://www.alibabacloud.com/help/en/oss/developer-reference/putobject"""
    if "x-oss-copy-source" in req.headers:
        return copy_object(req)
    svc = services()
    spec = parse_callback(req.headers, req.args, strict_urls=svc.config.strict_callback_urls)
    options = upload_options(req)
    length = req.content_length()
    meta = storage().put_object(
        req.bucket or "",
        req.key or "",
        req.body_chunks(),
        content_type=content_type_for(req),
        headers={**stored_headers(req.headers), **options.encryption},
        forbid_overwrite=forbid_overwrite(req),
        expected_md5=req.headers.get("content-md5"),
        expected_size=length,
        storage_class=options.storage_class,
        tags=options.tags,
        acl=upload_acl(req.headers),
    )
    headers = upload_headers(meta)
    if spec is None:
        return Response(status=200, headers=headers)
    return callback_answer(req, spec, meta, "PutObject", headers)


def copy_object(req: OssRequest) -> Response:
    """CopyObject: https://www.alibabacloud.com/help/en/oss/developer-reference/copyobject"""
    src_bucket, src_key = parse_copy_source(req.headers["x-oss-copy-source"])
    replace = req.headers.get("x-oss-metadata-directive", "COPY").upper() == "REPLACE"
    options = upload_options(req, class_ec="0013-00000101")
    replace_tags = tagging_directive(req.headers) == "REPLACE"
    source_meta = storage().head_object(src_bucket, src_key)
    conditions = {
        h: req.headers[f"x-oss-copy-source-{h}"]
        for h in _COPY_IFS
        if f"x-oss-copy-source-{h}" in req.headers
    }
    if check_preconditions(conditions, source_meta.etag, source_meta.last_modified) == 304:
        return _not_modified(source_meta)
    meta = storage().copy_object(
        src_bucket,
        src_key,
        req.bucket or "",
        req.key or "",
        # REPLACE without a Content-Type keeps the source's (None), as OSS does.
        content_type=req.headers.get("content-type") if replace else None,
        headers=_copied_headers(req, source_meta, replace, options.encryption),
        forbid_overwrite=forbid_overwrite(req),
        storage_class=options.storage_class,
        tags=(options.tags or {}) if replace_tags else None,
        acl=upload_acl(req.headers),
    )
    body = render(
        "CopyObjectResult",
        [("ETag", etag(meta.etag)), ("LastModified", timestamp(meta.last_modified))],
    )
    return xml_response(body, headers=upload_headers(meta))


def _copied_headers(
    req: OssRequest, source: ObjectMeta, replace: bool, encryption: dict[str, str]
) -> dict[str, str] | None:
    """The copy's stored headers; None keeps the source's (COPY, nothing else asked)."""
    if replace:
        return {**stored_headers(req.headers), **encryption}
    return {**source.headers, **encryption} if encryption else None


def get_object(req: OssRequest) -> Response:
    """GetObject: https://www.alibabacloud.com/help/en/oss/developer-reference/getobject"""
    check_traffic_limit(req)
    meta, f = storage().open_object(req.bucket or "", req.key or "", follow_symlink=True)
    try:
        headers = object_headers(meta)
        headers.update(_response_overrides(req))
        if check_preconditions(req.headers, meta.etag, meta.last_modified) == 304:
            f.close()
            return _not_modified(meta)
        byte_range = parse_range(req.headers.get("range"), meta.size)
    except BaseException:
        f.close()
        raise
    if byte_range is None:
        headers["Content-Length"] = str(meta.size)
        if isinstance(f, io.BytesIO):  # a small body kept inline: already in memory
            return Response(f.getvalue(), headers=headers)
        body = wrap_file(req.environ, ExactFile(f, meta.size, req.environ))  # type: ignore[arg-type]
        return Response(body, headers=headers, direct_passthrough=True)
    start, end = byte_range
    f.seek(start)
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{meta.size}"
    span = _read_span(ExactFile(f, meta.size, req.environ), end - start + 1)  # type: ignore[arg-type]
    return Response(span, status=206, headers=headers, direct_passthrough=True)


def head_object(req: OssRequest) -> Response:
    """HeadObject: https://www.alibabacloud.com/help/en/oss/developer-reference/headobject"""
    meta = storage().head_object(req.bucket or "", req.key or "", follow_symlink=True)
    if check_preconditions(req.headers, meta.etag, meta.last_modified) == 304:
        return _not_modified(meta)
    return Response(headers={**object_headers(meta), "Content-Length": str(meta.size)})


def get_object_meta(req: OssRequest) -> Response:
    """GetObjectMeta: https://www.alibabacloud.com/help/en/oss/developer-reference/getobjectmeta"""
    meta = storage().head_object(req.bucket or "", req.key or "")
    return Response(
        headers={
            "ETag": f'"{meta.etag}"',
            "Content-Length": str(meta.size),
            "Last-Modified": http_date(meta.last_modified),
            "x-oss-hash-crc64ecma": str(meta.crc64),
            "x-oss-storage-class": meta.storage_class,
        }
    )


def delete_object(req: OssRequest) -> Response:
    """DeleteObject (204 also when the key is missing):
    https://www.alibabacloud.com/help/en/oss/developer-reference/deleteobject"""
    storage().delete_object(req.bucket or "", req.key or "")
    return Response(status=204)


def delete_multiple_objects(req: OssRequest) -> Response:
    """DeleteMultipleObjects: https://www.alibabacloud.com/help/en/oss/developer-reference/deletemultipleobjects"""
    enc = encoding_type(req.args)
    body = req.xml_body(MAX_DELETE_BODY)
    check_content_md5(body, req.headers.get("content-md5"))
    keys, quiet = parse_delete_keys(body)
    principal = req.environ.get(iam.PRINCIPAL)
    for key in keys:  # every key, before any is deleted
        iam.check_key(
            principal, "oss:DeleteObject", services().config.region, req.bucket or "", key
        )
    store = storage()
    store.get_bucket(req.bucket or "")
    for key in keys:
        store.delete_object(req.bucket or "", key)
    deleted = [] if quiet else [("Deleted", [("Key", encode_key(k, enc))]) for k in keys]
    return xml_response(render("DeleteResult", [("EncodingType", enc or None), *deleted]))


def _response_overrides(req: OssRequest) -> dict[str, str]:
    """``response-*`` query values as headers: control characters (CR, LF, NUL...) could split
    or break the response, so they are refused; other text goes out as its UTF-8 bytes (WSGI
    header strings are latin-1, one character per byte)."""
    out = {}
    for name, header in RESPONSE_OVERRIDES.items():
        if name in req.args:
            value = req.args[name]
            if _CONTROL.search(value):
                raise invalid_argument(f"The {name} contains a control character.", name, value)
            out[header] = value.encode("utf-8", "replace").decode("latin-1")
    return out


def _not_modified(meta: ObjectMeta) -> Response:
    return Response(
        status=304,
        headers={"ETag": f'"{meta.etag}"', "Last-Modified": http_date(meta.last_modified)},
    )


def _read_span(f: BinaryIO, length: int) -> Iterator[bytes]:
    with f:
        while length > 0:
            chunk = f.read(min(length, 1024 * 1024))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
