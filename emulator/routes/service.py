"""Service-level operations."""

from __future__ import annotations

from flask import Response

from ..protocol.xml import render, timestamp
from ..services import storage
from .parsing import OssRequest, int_arg, own_url
from .responses import OWNER, xml_response


def list_buckets(req: OssRequest) -> Response:
    """ListBuckets (GetService): https://www.alibabacloud.com/help/en/oss/developer-reference/listbuckets"""
    args = req.args
    max_keys = int_arg(args, "max-keys", 100, 1000)
    buckets, truncated = storage().list_buckets(
        prefix=args.get("prefix", ""), marker=args.get("marker", ""), max_keys=max_keys
    )
    body = render(
        "ListAllMyBucketsResult",
        [
            ("Prefix", args.get("prefix")),
            ("Marker", args.get("marker")),
            ("MaxKeys", args.get("max-keys")),
            ("IsTruncated", truncated if "max-keys" in args or truncated else None),
            ("NextMarker", buckets[-1].name if truncated else None),
            ("Owner", OWNER),
            (
                "Buckets",
                [
                    (
                        "Bucket",
                        [
                            ("CreationDate", timestamp(b.created)),
                            ("ExtranetEndpoint", own_url(req)),
                            ("IntranetEndpoint", own_url(req)),
                            ("Location", f"oss-{b.region}"),
                            ("Name", b.name),
                            ("Region", b.region),
                            ("StorageClass", b.storage_class),
                        ],
                    )
                    for b in buckets
                ],
            ),
        ],
    )
    return xml_response(body)
