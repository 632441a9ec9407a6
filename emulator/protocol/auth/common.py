"""What the V1, V4 and presigned checks share: the request value, limits, clock and errors."""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from ..errors import BadRequest, Forbidden

MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
V4_ALGORITHM = "OSS4-HMAC-SHA256"
V4_TERMINATOR = "aliyun_v4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# The union of the SDKs' lists (alibabacloud-oss-v2 signer/v1.py, oss2 auth.py
# _subresource_key_set, Go v1 conn.go signKeyList): any of them may have signed the request.
_SUBRESOURCE_NAMES = """
    acl append asyncFetch bucketArchiveDirectRead bucketInfo callback callback-var cloudboxes
    cname comp continuation-token cors delete encryption endTime group httpsConfig img inventory
    inventoryId lifecycle link live location logging metaQuery objectInfo objectMeta partNumber
    policy position publicAccessBlock qos qosInfo qosRequester redundancyTransition referer
    regionList replication replicationLocation replicationProgress requestPayment
    requesterQosInfo resourceGroup resourcePool resourcePoolBuckets resourcePoolInfo
    response-cache-control response-content-disposition response-content-encoding
    response-content-language response-content-type response-expires restore security-token
    sequential startTime stat status style styleName symlink tagging transferAcceleration udf
    udfApplication udfApplicationLog udfId udfImage udfImageDesc udfName uploadId uploads
    versionId versioning versions vod website withHashContext worm wormExtend wormId accessPoint
    accessPointPolicy x-oss-ac-forward-allow x-oss-ac-source-ip x-oss-ac-subnet-mask
    x-oss-ac-vpc-id x-oss-access-point-name x-oss-async-process x-oss-enable-md5
    x-oss-enable-sha1 x-oss-enable-sha256 x-oss-hash-ctx x-oss-md5-ctx x-oss-process
    x-oss-redundancy-transition-taskid x-oss-request-payer x-oss-target-redundancy-type
    x-oss-traffic-limit x-oss-write-get-object-response
"""
#: Query parameters that V1 signs (the rest of the query is left out of the string to sign).
SUBRESOURCES: frozenset[str] = frozenset(_SUBRESOURCE_NAMES.split())

V1_QUERY = ("OSSAccessKeyId", "Expires", "Signature")
V4_QUERY = ("x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires")
URL_MARKERS = ("x-oss-signature-version", "x-oss-credential", "x-oss-signature", *V1_QUERY)
V4_DEFAULT_SIGNED = frozenset({"content-type", "content-md5"})
V4_FIELDS = ("Credential", "AdditionalHeaders", "Signature")
_ISO8601_BASIC = re.compile(r"[0-9]{8}T[0-9]{6}Z")
ANONYMOUS_DENIED = "You have no right to access this object because of bucket acl."
BAD_HEADER = "Authorization header is invalid."
V4_SHAPE = (
    "expected 'OSS4-HMAC-SHA256 Credential=<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request"
    "[,AdditionalHeaders=<h1;h2>],Signature=<64 hex>'."
)
_DATE_SHAPE = "use RFC 1123 GMT for Date and yyyymmddTHHMMSSZ for x-oss-date (V4)."


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that OSS signatures cover, as the route layer decoded them."""

    method: str
    bucket: str | None
    key: str | None
    #: Percent-decoded ``(name, value)`` pairs in wire order; ``""`` for a bare ``?acl``.
    query: list[tuple[str, str]]
    #: Lower-cased header names.
    headers: Mapping[str, str]


def compare(
    expected: str, provided: str, access_key_id: str, string_to_sign: str, **extra: str
) -> None:
    if not hmac.compare_digest(utf8(expected), utf8(provided)):
        raise Forbidden(
            "SignatureDoesNotMatch",
            StringToSign=string_to_sign,
            SignatureProvided=provided,
            StringToSignBytes=utf8(string_to_sign).hex(" "),
            OSSAccessKeyId=access_key_id,
            **extra,
        )


@dataclass(frozen=True)
class Credential:
    """What a key id (and its SecurityToken, if any) resolves to: the secret to check the
    signature with and, for an STS session, who it is and the session policy it carries."""

    secret: str
    #: The session policy JSON an STS session was issued with (None: no narrowing).
    policy: str | None = None
    #: ``acs:ram::<account>:role/<role>/<session>`` for an STS session, else None.
    session: str | None = None


#: ``(access_key_id, security_token or None) -> Credential``; raises OssError for an unknown
#: key or a token that does not belong to it.
CredentialLookup = Callable[[str, "str | None"], Credential]

#: Where the SDKs put the SecurityToken: query for presigned URLs (V4, then V1), else headers
#: (alibabacloud-oss-v2's V1 signer sends ``security-token``, outside the signed set).
_TOKEN_QUERY = ("x-oss-security-token", "security-token")
_TOKEN_HEADERS = ("x-oss-security-token", "security-token")


def token_of(req: SignedRequest) -> str | None:
    """The request's SecurityToken; an empty one counts as none."""
    for value in firsts(req.query, _TOKEN_QUERY):
        if value:
            return value
    for name in _TOKEN_HEADERS:
        value = req.headers.get(name, "").strip()
        if value:
            return value
    return None


def long_term(secrets: Mapping[str, str]) -> CredentialLookup:
    """A lookup over long-term keys only: a token sent with one of them is refused."""

    def lookup(access_key_id: str, token: str | None) -> Credential:
        secret = secrets.get(access_key_id)
        if secret is None:
            raise Forbidden("InvalidAccessKeyId", OSSAccessKeyId=access_key_id)
        if token:
            raise Forbidden("InvalidSecurityToken", OSSAccessKeyId=access_key_id)
        return Credential(secret)

    return lookup


def credential_for(access_key_id: str, lookup: CredentialLookup, req: SignedRequest) -> Credential:
    return lookup(access_key_id, token_of(req))


def check_time(raw: str, parsed: float | None, now: float, header: str) -> None:
    if not raw:
        raise denied(f"The request must carry a {header} header.", "0002-00000503")
    if parsed is None:
        raise denied(f"Invalid {header} header {raw!r}; {_DATE_SHAPE}", "0002-00000502")
    if abs(parsed - now) > MAX_SKEW_SECONDS:
        raise Forbidden(
            "RequestTimeTooSkewed",
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
            RequestTime=iso(parsed),
            ServerTime=iso(now),
        )


def check_expiry(deadline: float, now: float) -> None:
    if now > deadline:
        raise denied(
            "Request has expired.", "0002-00000069", Expires=iso(deadline), ServerTime=iso(now)
        )


def parse_time(value: str, *, iso_only: bool) -> float | None:
    """``yyyymmddTHHMMSSZ``, or (V1 only) RFC 1123, which ali-oss also sends as x-oss-date."""
    try:
        if _ISO8601_BASIC.fullmatch(value):
            parsed = datetime.strptime(value, "%Y%m%dT%H%M%SZ")
        elif iso_only:
            return None
        else:
            parsed = parsedate_to_datetime(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def seconds(value: str, max_digits: int) -> int | None:
    """ASCII digits only (``str.isdigit`` alone also accepts '²'), bounded so ``int()`` stays
    cheap."""
    return int(value) if len(value) <= max_digits and value.isascii() and value.isdigit() else None


def first(query: Iterable[tuple[str, str]], name: str) -> str | None:
    """OSS reads the first occurrence of a repeated parameter."""
    return next((v for k, v in query if k == name), None)


def firsts(query: Iterable[tuple[str, str]], names: Iterable[str]) -> tuple[str | None, ...]:
    """:func:`first` of each of ``names``, in one pass over the query (every request
    authenticated by URL reads three or more)."""
    found: dict[str, str | None] = dict.fromkeys(names)
    for k, v in query:
        if k in found and found[k] is None:
            found[k] = v
    return tuple(found.values())


def rfc3986(text: str, safe: str = "") -> str:
    return quote(text, safe=safe, errors="surrogatepass")


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def denied(message: str, ec: str | None = None, **details: str) -> Forbidden:
    return Forbidden("AccessDenied", message, ec=ec, **details)


def invalid(message: str, name: str, value: str, ec: str) -> BadRequest:
    return BadRequest("InvalidArgument", message, ec=ec, ArgumentName=name, ArgumentValue=value)
