"""UploadPartCopy: a part taken from a range of an existing object.

The source is opened once (a stable handle on its current version), its conditions checked
against that version, and the range streamed into ``storage.upload_part``, so the part is stored
and replaced exactly as an uploaded part is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flask import Response

from ..protocol.http import check_preconditions, http_date, parse_copy_source, parse_range
from ..protocol.xml import etag, render, timestamp
from ..services import storage
from ..storage import ObjectMeta
from .parsing import OssRequest, part_number
from .responses import xml_response

SOURCE = "x-oss-copy-source"
# x-oss-copy-source-<condition>: 412 or 304, as If-Match & co. are on GET.
_CONDITIONS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
_CHUNK = 1024 * 1024


def upload_part_copy(req: OssRequest) -> Response:
    """UploadPartCopy: https://www.alibabacloud.com/help/en/oss/developer-reference/uploadpartcopy"""
    src_bucket, src_key = parse_copy_source(req.headers[SOURCE])
    source, f = storage().open_object(src_bucket, src_key, follow_symlink=True)
    with f:
        if _check_conditions(req, source) == 304:
            headers = {"ETag": etag(source.etag), "Last-Modified": http_date(source.last_modified)}
            return Response(status=304, headers=headers)
        span = parse_range(req.headers.get(f"{SOURCE}-range"), source.size)
        start, end = span if span is not None else (0, source.size - 1)
        part = storage().upload_part(
            req.bucket or "",
            req.key or "",
            req.args["uploadId"],
            part_number(req.args),
            _read(f, start, end - start + 1),
            expected_md5=None,
            expected_size=end - start + 1,
        )
    body = render(
        "CopyPartResult",
        [("LastModified", timestamp(part.last_modified)), ("ETag", etag(part.etag))],
    )
    # oss2 reads the part's ETag from the header, v2 from the document: OSS sends both.
    return xml_response(
        body, headers={"ETag": etag(part.etag), "x-oss-hash-crc64ecma": str(part.crc64)}
    )


def _check_conditions(req: OssRequest, source: ObjectMeta) -> int | None:
    conditions = {
        c: req.headers[f"{SOURCE}-{c}"] for c in _CONDITIONS if f"{SOURCE}-{c}" in req.headers
    }
    return check_preconditions(conditions, source.etag, source.last_modified)


def _read(f: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    f.seek(start)
    while length > 0:
        chunk = f.read(min(length, _CHUNK))
        if not chunk:
            return
        length -= len(chunk)
        yield chunk
