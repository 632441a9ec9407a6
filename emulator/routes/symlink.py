"""PutSymlink and GetSymlink; reads through a link are GetObject's and HeadObject's."""

from __future__ import annotations

from urllib.parse import quote, unquote

from flask import Response

from ..protocol.errors import invalid_argument
from ..protocol.http import http_date
from ..services import storage
from .parsing import OssRequest, content_type_for, forbid_overwrite, stored_headers

TARGET = "x-oss-symlink-target"


def put_symlink(req: OssRequest) -> Response:
    """PutSymlink: https://www.alibabacloud.com/help/en/oss/developer-reference/putsymlink"""
    if not req.headers.get(TARGET):
        raise invalid_argument("x-oss-symlink-target is missing.", TARGET)
    # The target is URL-encoded on the wire, as object names are (oss2 quotes it; v2 sends
    # plain ASCII names, which decode to themselves).
    storage().put_symlink(
        req.bucket or "",
        req.key or "",
        unquote(req.headers[TARGET]),
        content_type=content_type_for(req),
        headers=stored_headers(req.headers),
        forbid_overwrite=forbid_overwrite(req),
    )
    return Response(status=200)


def get_symlink(req: OssRequest) -> Response:
    """GetSymlink: https://www.alibabacloud.com/help/en/oss/developer-reference/getsymlink"""
    meta = storage().get_symlink(req.bucket or "", req.key or "")
    meta_headers = {k: v for k, v in meta.headers.items() if k.startswith("x-oss-meta-")}
    return Response(
        status=200,
        headers={
            TARGET: quote(meta.symlink_target, safe="/"),
            "ETag": f'"{meta.etag}"',
            "Last-Modified": http_date(meta.last_modified),
            **meta_headers,
        },
    )
