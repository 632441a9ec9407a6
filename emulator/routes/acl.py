"""Bucket and object ACLs over HTTP: Put/GetBucketAcl, Put/GetObjectAcl, and the ACLs the
anonymous-access check reads."""

from __future__ import annotations

from flask import Response

from ..protocol import acl
from ..protocol.errors import NotFound
from ..services import storage
from .parsing import OssRequest
from .responses import OWNER, xml_response

SETTING = "acl"


def put_bucket_acl(req: OssRequest) -> Response:
    """PutBucketAcl: https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketacl"""
    grant = acl.bucket_acl(req.headers.get("x-oss-acl"))
    storage().put_bucket_setting(req.bucket or "", SETTING, grant)
    return Response(status=200)


def get_bucket_acl(req: OssRequest) -> Response:
    """GetBucketAcl: https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketacl"""
    return xml_response(acl.policy_xml(bucket_acl(req.bucket or ""), OWNER))


def put_object_acl(req: OssRequest) -> Response:
    """PutObjectAcl: https://www.alibabacloud.com/help/en/oss/developer-reference/putobjectacl"""
    grant = acl.object_acl(req.headers.get("x-oss-object-acl"))
    storage().put_object_acl(req.bucket or "", req.key or "", grant)
    return Response(status=200)


def get_object_acl(req: OssRequest) -> Response:
    """GetObjectAcl: https://www.alibabacloud.com/help/en/oss/developer-reference/getobjectacl"""
    meta = storage().head_object(req.bucket or "", req.key or "")
    return xml_response(acl.policy_xml(meta.acl, OWNER))


def bucket_acl(bucket: str) -> str:
    """The bucket's canned ACL (``private`` unless set); NoSuchBucket when there is no bucket."""
    store = storage()
    value = store.get_bucket_setting(bucket, SETTING)
    if value is None:
        store.get_bucket(bucket)
    return value or "private"


def object_acl(bucket: str, key: str) -> str:
    """The object's ACL; ``default`` for a key that does not exist (yet)."""
    try:
        return storage().head_object(bucket, key).acl
    except NotFound:
        return "default"


def upload_acl(headers: dict[str, str]) -> str:
    """``x-oss-object-acl`` of PutObject, CopyObject or InitiateMultipartUpload."""
    value = headers.get("x-oss-object-acl")
    return "default" if value is None else acl.object_acl(value)


def check_anonymous(operation: str, bucket: str, key: str | None) -> None:
    """AccessDenied unless the bucket's and object's ACLs open ``operation`` to anyone."""
    if operation not in acl.OBJECT_ACCESS and operation not in acl.BUCKET_ACCESS:
        acl.check_anonymous(operation, "private")  # owner-only: no need to look anything up
    grant = bucket_acl(bucket)
    on_object = key is not None and operation in acl.OBJECT_ACCESS
    acl.check_anonymous(operation, grant, object_acl(bucket, key) if on_object else "default")
