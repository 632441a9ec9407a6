"""RestoreObject: the route; the timing and the read checks live in ``storage.restore``."""

from __future__ import annotations

from flask import Response

from ..protocol.restore import parse_restore_request
from ..services import services, storage
from .parsing import OssRequest


def restore_object(req: OssRequest) -> Response:
    """RestoreObject (202 begun, 200 a restored copy kept longer):
    https://www.alibabacloud.com/help/en/oss/developer-reference/restoreobject"""
    days, _tier = parse_restore_request(req.xml_body())
    status, _meta = storage().restore_object(
        req.bucket or "", req.key or "", days=days, delay=services().config.restore_seconds
    )
    return Response(status=status)
