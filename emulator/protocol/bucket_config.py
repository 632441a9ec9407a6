"""Bucket configurations apps set and read back (referer, website, logging, encryption, policy,
request payment, versioning; lifecycle lives in :mod:`.lifecycle`): each body checked as OSS
checks it and turned into the document GetBucket* answers. Pure: no Flask, no disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from . import lifecycle
from .errors import BadRequest, NotFound, OssError, invalid_argument
from .xml import Node, parse, render

MAX_BODY = 64 * 1024
MAX_POLICY = 16 * 1024  # OSS: a bucket policy is at most 16 KB


@dataclass(frozen=True)
class BucketConfig:
    """One configuration: its query sub-resource, operation names, body check and defaults."""

    sub: str
    name: str  # PutBucket<name>, GetBucket<name>, DeleteBucket<name>
    check: Callable[[bytes], bytes]  # the body -> the document stored and answered
    missing: Callable[[str], bytes]  # the answer when unset (or raises its NoSuch* error)
    deletable: bool = True
    content_type: str = "application/xml"


def _missing(code: str, message: str) -> Callable[[str], bytes]:
    def raise_missing(bucket: str) -> bytes:
        raise NotFound(code, message, BucketName=bucket)

    return raise_missing


def _text(e: Element, path: str) -> str | None:
    value = e.findtext(path)
    return None if value is None else value.strip()


def _bool(e: Element, path: str, default: str | None = None) -> str | None:
    value = _text(e, path) or default
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise BadRequest("MalformedXML")
    return value.lower()


def check_referer(body: bytes) -> bytes:
    """PutBucketReferer: AllowEmptyReferer is required; lists of Referer patterns."""
    doc = parse(body, "RefererConfiguration")
    allow_empty = _bool(doc, "AllowEmptyReferer")
    if allow_empty is None:
        raise BadRequest("MalformedXML")
    nodes: list[Node] = [
        ("AllowEmptyReferer", allow_empty),
        ("AllowTruncateQueryString", _bool(doc, "AllowTruncateQueryString", "true")),
        ("TruncatePath", _bool(doc, "TruncatePath", "false")),
        ("RefererList", _referers(doc, "RefererList")),
    ]
    if doc.find("RefererBlacklist") is not None:
        nodes.append(("RefererBlacklist", _referers(doc, "RefererBlacklist")))
    return render("RefererConfiguration", nodes)


def _referers(doc: Element, path: str) -> list[Node]:
    found = [(r.text or "").strip() for r in doc.findall(f"{path}/Referer")]
    if len(found) > 1000 or any(not r or len(r) > 1024 for r in found):
        raise invalid_argument("The referer list is invalid.", path)
    return [("Referer", r) for r in found]


def default_referer(bucket: str) -> bytes:
    return check_referer(
        b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer>"
        b"<RefererList/></RefererConfiguration>"
    )


def check_website(body: bytes) -> bytes:
    """PutBucketWebsite: an IndexDocument and/or an ErrorDocument (routing rules kept as given)."""
    doc = parse(body, "WebsiteConfiguration")
    index, error = doc.find("IndexDocument"), doc.find("ErrorDocument")
    if index is None and error is None:
        raise BadRequest("MalformedXML")
    nodes: list[Node] = []
    if index is not None:
        suffix = _text(index, "Suffix")
        if not suffix or "/" in suffix:
            raise invalid_argument("The index document suffix is invalid.", "Suffix", suffix or "")
        nodes.append(
            (
                "IndexDocument",
                [
                    ("Suffix", suffix),
                    ("SupportSubDir", _bool(index, "SupportSubDir", "false")),
                    ("Type", _text(index, "Type") or "0"),
                ],
            )
        )
    if error is not None:
        key = _text(error, "Key")
        status = _text(error, "HttpStatus") or "404"
        if not key or status not in ("200", "404"):
            raise invalid_argument("The error document is invalid.", "ErrorDocument", key or "")
        nodes.append(("ErrorDocument", [("Key", key), ("HttpStatus", status)]))
    rules = doc.find("RoutingRules")
    if rules is not None:
        nodes.append(("RoutingRules", [_copy(rule) for rule in rules]))
    return render("WebsiteConfiguration", nodes)


def _copy(e: Element) -> Node:
    """An element kept as it came (routing rules are stored, not interpreted)."""
    children = list(e)
    return (e.tag, [_copy(c) for c in children] if children else (e.text or "").strip())


def check_logging(body: bytes) -> bytes:
    """PutBucketLogging: LoggingEnabled names a TargetBucket (checked to exist by the route)."""
    doc = parse(body, "BucketLoggingStatus")
    enabled = doc.find("LoggingEnabled")
    if enabled is None:
        return render("BucketLoggingStatus", [])
    target = _text(enabled, "TargetBucket")
    if not target:
        raise BadRequest("MalformedXML")
    prefix = _text(enabled, "TargetPrefix") or ""
    if len(prefix) > 32:
        raise invalid_argument("TargetPrefix is too long.", "TargetPrefix", prefix)
    nodes: list[Node] = [("TargetBucket", target), ("TargetPrefix", prefix)]
    return render("BucketLoggingStatus", [("LoggingEnabled", nodes)])


def logging_target(document: bytes) -> str | None:
    """The target bucket a stored logging document names, if any."""
    return _text(parse(document, "BucketLoggingStatus"), "LoggingEnabled/TargetBucket")


def check_encryption(body: bytes) -> bytes:
    """PutBucketEncryption: AES256, SM4 or KMS (a KMSMasterKeyID only with KMS)."""
    doc = parse(body, "ServerSideEncryptionRule")
    rule = doc.find("ApplyServerSideEncryptionByDefault")
    if rule is None:
        raise BadRequest("MalformedXML")
    algorithm = _text(rule, "SSEAlgorithm") or ""
    if algorithm not in ("AES256", "KMS", "SM4"):
        raise invalid_argument("Invalid SSEAlgorithm.", "SSEAlgorithm", algorithm)
    key_id = _text(rule, "KMSMasterKeyID")
    data_encryption = _text(rule, "KMSDataEncryption")
    if algorithm != "KMS" and (key_id or data_encryption):
        raise invalid_argument(
            "KMSMasterKeyID is not applicable if the default sse algorithm is not KMS.",
            "KMSMasterKeyID",
            key_id or "",
        )
    if data_encryption not in (None, "", "SM4"):
        raise invalid_argument("Invalid KMSDataEncryption.", "KMSDataEncryption", data_encryption)
    nodes: list[Node] = [("SSEAlgorithm", algorithm)]
    if algorithm == "KMS":
        nodes += [("KMSMasterKeyID", key_id or ""), ("KMSDataEncryption", data_encryption or None)]
    return render("ServerSideEncryptionRule", [("ApplyServerSideEncryptionByDefault", nodes)])


def check_policy(body: bytes) -> bytes:
    """PutBucketPolicy: a JSON document with Version "1" and a list of Statement."""
    if len(body) > MAX_POLICY:
        raise OssError("InvalidPolicyDocument", "Policy document is too large.")
    try:
        policy = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OssError("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if not isinstance(statements, list) or not statements:
        raise OssError("InvalidPolicyDocument", "Invalid Policy: Missing Statement.")
    if policy.get("Version") != "1":
        raise OssError("InvalidPolicyDocument", "Invalid Policy: Version must be 1.")
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise OssError("InvalidPolicyDocument", "Invalid Policy: Invalid Effect.")
        if "Action" not in statement:
            raise OssError("InvalidPolicyDocument", "Invalid Policy: Missing Action.")
    return body


def check_request_payment(body: bytes) -> bytes:
    """PutBucketRequestPayment: Payer is BucketOwner or Requester."""
    payer = _text(parse(body, "RequestPaymentConfiguration"), "Payer")
    if payer not in ("BucketOwner", "Requester"):
        raise invalid_argument("Invalid payer.", "Payer", payer or "")
    return render("RequestPaymentConfiguration", [("Payer", payer)])


def default_request_payment(bucket: str) -> bytes:
    return render("RequestPaymentConfiguration", [("Payer", "BucketOwner")])


def check_versioning(body: bytes) -> bytes:
    """PutBucketVersioning: Status Enabled or Suspended (stored; objects are not versioned)."""
    status = _text(parse(body, "VersioningConfiguration"), "Status")
    if status not in ("Enabled", "Suspended"):
        raise BadRequest("MalformedXML")
    return render("VersioningConfiguration", [("Status", status)])


CONFIGS: tuple[BucketConfig, ...] = (
    BucketConfig(
        "lifecycle",
        "Lifecycle",
        lambda body: lifecycle.to_xml(lifecycle.parse_lifecycle(body)),
        _missing("NoSuchLifecycle", "No Row found in Lifecycle Table."),
    ),
    BucketConfig("referer", "Referer", check_referer, default_referer, deletable=False),
    BucketConfig(
        "website",
        "Website",
        check_website,
        _missing(
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration.",
        ),
    ),
    BucketConfig(
        "logging",
        "Logging",
        check_logging,
        lambda bucket: render("BucketLoggingStatus", []),
    ),
    BucketConfig(
        "encryption",
        "Encryption",
        check_encryption,
        _missing(
            "NoSuchServerSideEncryptionRule",
            "The server side encryption configuration was not found",
        ),
    ),
    BucketConfig(
        "policy",
        "Policy",
        check_policy,
        _missing("NoSuchBucketPolicy", "The bucket policy does not exist"),
        content_type="application/json",
    ),
    BucketConfig(
        "requestPayment",
        "RequestPayment",
        check_request_payment,
        default_request_payment,
        deletable=False,
    ),
    BucketConfig(
        "versioning",
        "Versioning",
        check_versioning,
        lambda bucket: render("VersioningConfiguration", []),
        deletable=False,
    ),
)
