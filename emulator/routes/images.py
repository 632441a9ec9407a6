"""GetObject with ``x-oss-process=image/...``: the object's bytes through emulator.imaging."""

from __future__ import annotations

from flask import Response

from .. import imaging
from ..protocol.errors import OssError
from ..protocol.http import http_date
from ..services import storage
from .parsing import OssRequest


def get_processed_object(req: OssRequest) -> Response:
    """GetObject + IMG: https://www.alibabacloud.com/help/en/oss/user-guide/img-parameters"""
    steps = imaging.check_spec(req.args["x-oss-process"])
    meta, f = storage().open_object(req.bucket or "", req.key or "")
    with f:
        imaging.check_source_size(meta.size)  # before a byte is read
        source = f.read(imaging.MAX_SOURCE_BYTES + 1)
    result = imaging.process(source, steps)
    headers = {"Last-Modified": http_date(meta.last_modified)}
    return Response(result.body, headers=headers, content_type=result.content_type)


def process_object(req: OssRequest) -> Response:
    """ProcessObject (the processed image saved as an object): not drawn by the emulator."""
    raise OssError("NotImplemented", "ProcessObject (saving a processed image) is not supported.")
