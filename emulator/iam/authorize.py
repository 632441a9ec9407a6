"""The single OSS authorisation decision: which RAM action and resource an operation needs,
and whether the caller's session policy allows it.

Actions per operation follow docs/direct-upload.md section 6.5 (multipart uploads need
``oss:PutObject``, ListParts ``oss:ListParts``...); an operation the table does not name needs
``oss:<Operation>``. Long-term keys are the account owner here and may do anything; anonymous
callers are handled by the route layer (every bucket is private).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ..protocol.auth import Principal
from ..protocol.errors import Forbidden
from ..protocol.http import parse_copy_source
from .policy import evaluate, parse

#: The one account that owns every bucket and role of the emulator.
ACCOUNT_ID = "1000000000000001"
DENIED = "Access denied by authorizer's policy."
DENIED_EC = "0003-00000301"
#: Where the route layer leaves the request's principal for handlers that check per key.
PRINCIPAL = "ossemu.principal"

# operation -> (action, level); level "object" uses bucket/key, "bucket" the bucket, "service" *.
_ACTIONS: dict[str, tuple[str, str]] = {
    "ListBuckets": ("oss:ListBuckets", "service"),
    "ListObjects": ("oss:ListObjects", "bucket"),
    "ListMultipartUploads": ("oss:ListMultipartUploads", "bucket"),
    "DeleteMultipleObjects": ("oss:DeleteObject", "per-key"),  # checked key by key
    "PutObject": ("oss:PutObject", "object"),
    "PostObject": ("oss:PutObject", "object"),
    "AppendObject": ("oss:PutObject", "object"),
    "InitiateMultipartUpload": ("oss:PutObject", "object"),
    "UploadPart": ("oss:PutObject", "object"),
    "UploadPartCopy": ("oss:PutObject", "object"),
    "CompleteMultipartUpload": ("oss:PutObject", "object"),
    "AbortMultipartUpload": ("oss:AbortMultipartUpload", "object"),
    "ListParts": ("oss:ListParts", "object"),
    "GetObject": ("oss:GetObject", "object"),
    "HeadObject": ("oss:GetObject", "object"),
    "GetObjectMeta": ("oss:GetObject", "object"),
    "DeleteObject": ("oss:DeleteObject", "object"),
    "PutBucketTags": ("oss:PutBucketTagging", "bucket"),
    "GetBucketTags": ("oss:GetBucketTagging", "bucket"),
    "DeleteBucketTags": ("oss:DeleteBucketTagging", "bucket"),
}


def resource(region: str, bucket: str | None, key: str | None = None) -> str:
    """``acs:oss:<region>:<account>:<bucket>[/<key>]``, or ``...:*`` for the service."""
    base = f"acs:oss:{region}:{ACCOUNT_ID}:"
    if bucket is None:
        return base + "*"
    return base + (bucket if key is None else f"{bucket}/{key}")


def needs(
    operation: str, bucket: str | None, key: str | None, headers: Mapping[str, str], region: str
) -> list[tuple[str, str]]:
    """The (action, resource) pairs ``operation`` on ``bucket``/``key`` needs to be allowed."""
    action, level = _ACTIONS.get(operation, (f"oss:{operation}", "bucket"))
    if level == "per-key":
        return []
    if level == "service" or bucket is None:
        return [(action, resource(region, None))]
    if level == "bucket" or key is None:
        return [(action, resource(region, bucket))]
    pairs = [(action, resource(region, bucket, key))]
    source = headers.get("x-oss-copy-source")
    if source and operation in ("PutObject", "UploadPart"):
        # CopyObject / UploadPartCopy also read the source.
        src_bucket, src_key = parse_copy_source(source)
        pairs.append(("oss:GetObject", resource(region, src_bucket, src_key)))
    return pairs


def context_of(
    operation: str,
    args: Mapping[str, str],
    headers: Mapping[str, str],
    remote_addr: str | None,
    now: float,
) -> dict[str, str]:
    """The condition keys OSS sets for this request (docs/direct-upload.md section 6.3)."""
    context = {
        "acs:currenttime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "acs:securetransport": "false",
        "acs:useragent": headers.get("user-agent", ""),
    }
    if remote_addr:
        context["acs:sourceip"] = remote_addr
    if operation == "ListObjects":
        context["oss:prefix"] = args.get("prefix", "")
        context["oss:delimiter"] = args.get("delimiter", "")
    return context


def check(principal: Principal, pairs: list[tuple[str, str]], context: Mapping[str, str]) -> None:
    """Raise 403 ``AccessDenied`` unless the principal's session policy allows every pair."""
    if principal.policy is None:
        return
    policy = parse(principal.policy)  # sealed at AssumeRole, after the grammar check
    for action, arn in pairs:
        if evaluate(policy, action, arn, context) != "allow":
            raise Forbidden("AccessDenied", DENIED, ec=DENIED_EC)


def check_key(principal: Principal | None, action: str, region: str, bucket: str, key: str) -> None:
    """Per-key check for operations that name their objects in the body (DeleteMultipleObjects)."""
    if principal is not None:
        check(principal, [(action, resource(region, bucket, key))], {})
