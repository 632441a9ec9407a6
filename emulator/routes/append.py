"""AppendObject: the route; the commit and the position rules live in ``storage.append``."""

from __future__ import annotations

from flask import Response

from ..protocol.errors import invalid_argument
from ..protocol.http import parse_uint
from ..services import storage
from .parsing import OssRequest, content_type_for, stored_headers

# OSS error centre: 0016-00000501 (position missing), 0016-00000502 (not a whole number).
_NO_POSITION = "0016-00000501"
_BAD_POSITION = "0016-00000502"


def append_object(req: OssRequest) -> Response:
    """AppendObject: https://www.alibabacloud.com/help/en/oss/developer-reference/appendobject"""
    meta = storage().append_object(
        req.bucket or "",
        req.key or "",
        _position(req.args.get("position")),
        req.body_chunks(),
        content_type=content_type_for(req),
        headers=stored_headers(req.headers),
        expected_md5=req.headers.get("content-md5"),
        expected_size=req.content_length(),
    )
    return Response(
        status=200,
        headers={
            "ETag": f'"{meta.etag}"',
            "x-oss-hash-crc64ecma": str(meta.crc64),
            "x-oss-next-append-position": str(meta.size),
        },
    )


def _position(value: str | None) -> int:
    if value is None:
        raise invalid_argument("Position is missing.", "position", ec=_NO_POSITION)
    position = parse_uint(value)
    if position is None:
        raise invalid_argument("Position is not valid.", "position", value, ec=_BAD_POSITION)
    return position
