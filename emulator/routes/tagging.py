"""Object tagging: PutObjectTagging, GetObjectTagging, DeleteObjectTagging (tags given at upload
come with ``x-oss-tagging``, see ``routes.options``)."""

from __future__ import annotations

from flask import Response

from ..protocol.http import check_content_md5
from ..protocol.object_options import check_tags
from ..protocol.xml import parse_tagging, render_tagging
from ..services import storage
from .parsing import OssRequest
from .responses import xml_response


def put_object_tagging(req: OssRequest) -> Response:
    """PutObjectTagging: https://www.alibabacloud.com/help/en/oss/developer-reference/putobjecttagging"""
    body = req.xml_body()
    check_content_md5(body, req.headers.get("content-md5"))
    tags = parse_tagging(body)
    check_tags(tags)
    storage().put_object_tagging(req.bucket or "", req.key or "", tags)
    return Response(status=200)


def get_object_tagging(req: OssRequest) -> Response:
    """GetObjectTagging: https://www.alibabacloud.com/help/en/oss/developer-reference/getobjecttagging"""
    meta = storage().head_object(req.bucket or "", req.key or "")
    return xml_response(render_tagging(meta.tags))


def delete_object_tagging(req: OssRequest) -> Response:
    """DeleteObjectTagging: https://www.alibabacloud.com/help/en/oss/developer-reference/deleteobjecttagging"""
    storage().put_object_tagging(req.bucket or "", req.key or "", {})
    return Response(status=204)
