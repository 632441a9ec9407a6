"""Object tagging (PutObjectTagging, GetObjectTagging, DeleteObjectTagging; tags given at upload
come with ``x-oss-tagging``, see ``routes.options``) and bucket tagging (PutBucketTags,
GetBucketTags, DeleteBucketTags), kept in the bucket-settings table as their XML document."""

from __future__ import annotations

from flask import Response

from ..protocol.http import check_content_md5
from ..protocol.object_options import check_bucket_tags, check_tags
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


def put_bucket_tags(req: OssRequest) -> Response:
    """PutBucketTags: https://www.alibabacloud.com/help/en/oss/developer-reference/putbuckettags

    The document given replaces the bucket's tag set."""
    body = req.xml_body()
    check_content_md5(body, req.headers.get("content-md5"))
    tags = parse_tagging(body)
    check_bucket_tags(tags)
    storage().put_bucket_setting(req.bucket or "", "tagging", render_tagging(tags).decode())
    return Response(status=200)


def get_bucket_tags(req: OssRequest) -> Response:
    """GetBucketTags: https://www.alibabacloud.com/help/en/oss/developer-reference/getbuckettags

    A bucket without tags answers an empty TagSet."""
    return xml_response(render_tagging(_bucket_tags(req.bucket or "")))


def delete_bucket_tags(req: OssRequest) -> Response:
    """DeleteBucketTags: https://www.alibabacloud.com/help/en/oss/developer-reference/deletebuckettags

    ``?tagging=k1,k2`` removes only those keys; a bare ``?tagging`` removes them all."""
    bucket = req.bucket or ""
    named = [k for k in (req.args.get("tagging") or "").split(",") if k]
    kept = {k: v for k, v in _bucket_tags(bucket).items() if named and k not in named}
    value = render_tagging(kept).decode() if kept else None
    storage().put_bucket_setting(bucket, "tagging", value)
    return Response(status=204)


def _bucket_tags(bucket: str) -> dict[str, str]:
    store = storage()
    document = store.get_bucket_setting(bucket, "tagging")
    if document is None:
        store.get_bucket(bucket)  # NoSuchBucket first
        return {}
    return parse_tagging(document.encode())
