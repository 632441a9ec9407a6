"""The object options an upload request carries (storage class, tags, server-side encryption,
traffic limit), read and validated before a byte of the body is stored."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..protocol.object_options import (
    encryption_headers,
    parse_tagging,
    storage_class,
    traffic_limit,
)
from .parsing import OssRequest


@dataclass(frozen=True)
class UploadOptions:
    #: None: the bucket's class.
    storage_class: str | None = None
    #: None: no x-oss-tagging header (a copy then keeps the source's tags).
    tags: dict[str, str] | None = None
    encryption: dict[str, str] = field(default_factory=dict)


def check_traffic_limit(req: OssRequest) -> None:
    """``x-oss-traffic-limit`` as a header, or as a presigned URL's query parameter."""
    name = "x-oss-traffic-limit"
    traffic_limit(req.headers.get(name, req.args.get(name)))


def upload_options(req: OssRequest, *, class_ec: str = "0017-00000132") -> UploadOptions:
    """Every option of PutObject, CopyObject and InitiateMultipartUpload, validated."""
    check_traffic_limit(req)
    return UploadOptions(
        storage_class(req.headers.get("x-oss-storage-class"), "", ec=class_ec) or None,
        parse_tagging(req.headers.get("x-oss-tagging")),
        encryption_headers(req.headers),
    )
