"""Bucket-level operations."""

from __future__ import annotations

import base64
import binascii

from flask import Response

from ..protocol import acl
from ..protocol.errors import invalid_argument
from ..protocol.object_options import storage_class
from ..protocol.xml import (
    Node,
    encode_key,
    etag,
    parse_bucket_configuration,
    render,
    render_text,
    timestamp,
)
from ..services import storage
from ..storage import ListPage, check_bucket_name
from .acl import bucket_acl
from .parsing import OssRequest, encoding_type, int_arg, own_url
from .responses import OWNER, xml_response


def put_bucket(req: OssRequest) -> Response:
    """PutBucket: https://www.alibabacloud.com/help/en/oss/developer-reference/putbucket"""
    name = check_bucket_name(req.bucket or "")
    grant = req.headers.get("x-oss-acl")
    body = req.xml_body()
    chosen = parse_bucket_configuration(body) if body.strip() else None
    storage().create_bucket(
        name,
        storage_class=storage_class(chosen, "Standard", ec="0013-00000101"),
        acl=None if grant is None else acl.bucket_acl(grant),
    )
    return Response(status=200, headers={"Location": f"/{req.bucket}"})


def delete_bucket(req: OssRequest) -> Response:
    """DeleteBucket: https://www.alibabacloud.com/help/en/oss/developer-reference/deletebucket"""
    storage().delete_bucket(req.bucket or "")
    return Response(status=204)


def get_bucket_info(req: OssRequest) -> Response:
    """GetBucketInfo: https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketinfo"""
    info = storage().get_bucket(req.bucket or "")
    return xml_response(
        render(
            "BucketInfo",
            [
                (
                    "Bucket",
                    [
                        ("AccessMonitor", "Disabled"),
                        ("CreationDate", timestamp(info.created)),
                        # The emulator's own address: SDK suites' cleanup helpers build a
                        # client from these, which must come back here.
                        ("ExtranetEndpoint", own_url(req)),
                        ("IntranetEndpoint", own_url(req)),
                        ("Location", f"oss-{info.region}"),
                        ("StorageClass", info.storage_class),
                        ("TransferAcceleration", "Disabled"),
                        ("CrossRegionReplication", "Disabled"),
                        ("Name", info.name),
                        ("ResourceGroupId", "rg-default"),
                        ("Owner", OWNER),
                        ("AccessControlList", [("Grant", bucket_acl(info.name))]),
                        ("Comment", ""),
                        ("BlockPublicAccess", False),
                        ("DataRedundancyType", "LRS"),
                        ("Versioning", None),
                        ("ServerSideEncryptionRule", [("SSEAlgorithm", "None")]),
                        ("BucketPolicy", [("LogBucket", ""), ("LogPrefix", "")]),
                    ],
                )
            ],
        )
    )


def list_live_channels(req: OssRequest) -> Response:
    """ListLiveChannel, always empty (RTMP ingest is not emulated); oss2's suites call it in
    every teardown: https://www.alibabacloud.com/help/en/oss/developer-reference/listlivechannel"""
    storage().get_bucket(req.bucket or "")
    args = req.args
    return xml_response(
        render(
            "ListLiveChannelResult",
            [
                ("Prefix", args.get("prefix", "")),
                ("Marker", args.get("marker", "")),
                ("MaxKeys", int_arg(args, "max-keys", 100, 1000)),
                ("IsTruncated", False),
                ("NextMarker", ""),
            ],
        )
    )


def get_bucket_location(req: OssRequest) -> Response:
    """GetBucketLocation: https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketlocation"""
    info = storage().get_bucket(req.bucket or "")
    return xml_response(render_text("LocationConstraint", f"oss-{info.region}"))


def list_objects(req: OssRequest) -> Response:
    """ListObjects and ListObjectsV2 (``list-type=2``):
    https://www.alibabacloud.com/help/en/oss/developer-reference/listobjectsv2"""
    args = req.args
    v2 = args.get("list-type") == "2"
    enc = encoding_type(args)
    marker = (
        _decode_token(args["continuation-token"])
        if v2 and args.get("continuation-token")
        else args.get("start-after" if v2 else "marker", "")
    )
    page = storage().list_objects(
        req.bucket or "",
        prefix=args.get("prefix", ""),
        marker=marker,
        delimiter=args.get("delimiter", ""),
        max_keys=int_arg(args, "max-keys", 100, 1000),
    )
    head: list[Node] = [("Name", req.bucket), ("Prefix", encode_key(args.get("prefix", ""), enc))]
    if v2:
        head += [
            ("StartAfter", args.get("start-after")),
            ("ContinuationToken", args.get("continuation-token")),
        ]
    else:
        head += [("Marker", encode_key(marker, enc))]
    head += [
        ("MaxKeys", int_arg(args, "max-keys", 100, 1000)),
        ("Delimiter", encode_key(args.get("delimiter", ""), enc)),
        ("EncodingType", enc or None),
        ("IsTruncated", page.is_truncated),
    ]
    if page.is_truncated:
        head.append(
            ("NextContinuationToken", _encode_token(page.next_marker))
            if v2
            else ("NextMarker", encode_key(page.next_marker, enc))
        )
    if v2:
        head.append(("KeyCount", len(page.objects) + len(page.common_prefixes)))
    owner = not v2 or args.get("fetch-owner") == "true"
    return xml_response(render("ListBucketResult", head + _contents(page, enc, owner)))


def _contents(page: ListPage, enc: str | None, owner: bool) -> list[Node]:
    nodes: list[Node] = [
        (
            "Contents",
            [
                ("Key", encode_key(o.key, enc)),
                ("LastModified", timestamp(o.last_modified)),
                ("ETag", etag(o.etag)),
                ("Type", o.object_type),
                ("Size", o.size),
                ("StorageClass", o.storage_class),
                ("Owner", OWNER if owner else None),
            ],
        )
        for o in page.objects
    ]
    nodes += [("CommonPrefixes", [("Prefix", encode_key(p, enc))]) for p in page.common_prefixes]
    return nodes


def _encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_argument(
            "The continuation-token is invalid.", "continuation-token", token
        ) from None
