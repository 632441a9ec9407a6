"""Verify OSS request signatures: V1 and V4, in the ``Authorization`` header or in a presigned URL.

The route layer turns the wire request into a :class:`SignedRequest` and calls
:func:`verify_request`; everything here is a pure function of that value, the secrets and the
clock. There is one function per spec step (docs/oss-protocol.md section 7), each pinned by the
SDKs' published vectors in ``tests/emulator/test_auth.py``. The client keeps its own signer on
purpose: shared code would hide a signing bug from the emulator that is meant to catch it.

Failures raise :class:`~emulator.protocol.errors.OssError` subclasses only, with OSS's codes. A
``SignatureDoesNotMatch`` carries the server's ``StringToSign`` (and, for V4, the
``CanonicalRequest``) so a user can diff it against what their signer produced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from .errors import BadRequest, Forbidden, invalid_argument

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

_V1_QUERY = ("OSSAccessKeyId", "Expires", "Signature")
_V4_QUERY = ("x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires")
_URL_MARKERS = ("x-oss-signature-version", "x-oss-credential", "x-oss-signature", *_V1_QUERY)
_V4_DEFAULT_SIGNED = frozenset({"content-type", "content-md5"})
_V4_FIELDS = ("Credential", "AdditionalHeaders", "Signature")
_ISO8601_BASIC = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_ANONYMOUS = "You have no right to access this object because of bucket acl."
_BAD_HEADER = "Authorization header is invalid."
_V4_SHAPE = (
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


# --- V1: base64(HMAC-SHA1(secret, StringToSign)) -------------------------------------------------


def v1_canonical_resource(
    bucket: str | None, key: str | None, query: Iterable[tuple[str, str]]
) -> str:
    """``/bucket/key`` (raw key, path-style and virtual-hosted alike) + sorted sub-resources."""
    path = f"/{bucket}/{key or ''}" if bucket else "/"
    subs = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    if not subs:
        return path
    return path + "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)


def v1_string_to_sign(req: SignedRequest, date: str) -> str:
    """``VERB\\nContent-MD5\\nContent-Type\\nDate\\n`` + x-oss-* headers + canonical resource.

    ``date`` fills the date slot: ``x-oss-date`` or ``Date`` for header auth, ``Expires`` for a
    presigned URL.
    """
    oss_headers = sorted((k, v.strip()) for k, v in req.headers.items() if k.startswith("x-oss-"))
    return "\n".join(
        [
            req.method,
            req.headers.get("content-md5", "").strip(),
            req.headers.get("content-type", "").strip(),
            date,
            "".join(f"{k}:{v}\n" for k, v in oss_headers)
            + v1_canonical_resource(req.bucket, req.key, req.query),
        ]
    )


def v1_signature(secret: str, string_to_sign: str) -> str:
    """The V1 signature as it appears after ``OSS ak:`` or in ``Signature=``."""
    digest = hmac.new(_utf8(secret), _utf8(string_to_sign), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- V4: hex(HMAC-SHA256(SigningKey, StringToSign)) ----------------------------------------------


def v4_canonical_request(req: SignedRequest, additional_headers: Sequence[str] = ()) -> str:
    """``VERB\\nURI\\nQuery\\nHeaders\\nAdditionalHeaders\\nHashedPayload`` (RFC 3986 encoded).

    ``additional_headers`` must already be lower-cased, sorted and free of default-signed names.
    """
    uri = f"/{req.bucket}/{req.key or ''}" if req.bucket else "/"
    params = sorted((_rfc3986(k), _rfc3986(v)) for k, v in req.query if k != "x-oss-signature")
    signed = _V4_DEFAULT_SIGNED.union(additional_headers)
    headers = sorted(
        (k, v.strip()) for k, v in req.headers.items() if k.startswith("x-oss-") or k in signed
    )
    return "\n".join(
        [
            req.method,
            _rfc3986(uri, safe="/"),
            "&".join(f"{k}={v}" if v else k for k, v in params),
            "".join(f"{k}:{v}\n" for k, v in headers),
            ";".join(additional_headers),
            req.headers.get("x-oss-content-sha256", UNSIGNED_PAYLOAD),
        ]
    )


def v4_string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    """``OSS4-HMAC-SHA256\\n<x-oss-date>\\n<scope>\\n<hex sha256(CanonicalRequest)>``."""
    digest = hashlib.sha256(_utf8(canonical_request)).hexdigest()
    return f"{V4_ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def v4_signing_key(secret: str, date: str, region: str, product: str = "oss") -> bytes:
    """HMAC-SHA256 chain: ``"aliyun_v4" + secret`` -> date -> region -> product -> terminator."""
    key = _utf8("aliyun_v4" + secret)
    for part in (date, region, product, V4_TERMINATOR):
        key = hmac.new(key, _utf8(part), hashlib.sha256).digest()
    return key


def v4_signature(signing_key: bytes, string_to_sign: str) -> str:
    """The 64 lowercase hex digits of a V4 signature."""
    return hmac.new(signing_key, _utf8(string_to_sign), hashlib.sha256).hexdigest()


# --- verification -------------------------------------------------------------------------------


def verify_request(
    req: SignedRequest, secrets: Mapping[str, str], *, now: float | None = None
) -> str:
    """Check the request's OSS signature; return the access key id.

    An anonymous request raises ``AccessDenied``: every bucket here is private.
    """
    now = time.time() if now is None else now
    authorization = req.headers.get("authorization", "").strip()
    in_url = {name for name, _ in req.query}.intersection(_URL_MARKERS)
    if authorization and in_url:
        message = "Use either the Authorization header or a signed URL, not both."
        raise invalid_argument(message, "Authorization", authorization)
    if authorization:
        scheme, _, rest = authorization.partition(" ")
        if scheme == "OSS":
            return _verify_v1_header(req, rest, secrets, now)
        if scheme == V4_ALGORITHM:
            return _verify_v4_header(req, rest, secrets, now)
        if scheme == "OSS2":
            message = "Signature version OSS2 is not supported here; use V1 (OSS) or V4."
            raise invalid_argument(message, "Authorization", authorization)
        raise invalid_argument(_BAD_HEADER, "Authorization", authorization)
    if any(name.startswith("x-oss-") for name in in_url):
        return _verify_v4_query(req, secrets, now)
    if in_url:
        return _verify_v1_query(req, secrets, now)
    raise Forbidden("AccessDenied", _ANONYMOUS)


def _verify_v1_header(req: SignedRequest, rest: str, secrets: Mapping[str, str], now: float) -> str:
    access_key_id, colon, provided = rest.strip().partition(":")
    if not colon or not access_key_id or not provided or " " in access_key_id:
        raise invalid_argument(_BAD_HEADER, "Authorization", f"OSS {rest}")
    date = (req.headers.get("x-oss-date") or req.headers.get("date") or "").strip()
    _check_time(date, _parse_time(date, iso_only=False), now, "Date or x-oss-date")
    secret = _secret_for(access_key_id, secrets)
    string_to_sign = v1_string_to_sign(req, date)
    _compare(v1_signature(secret, string_to_sign), provided, access_key_id, string_to_sign)
    return access_key_id


def _verify_v1_query(req: SignedRequest, secrets: Mapping[str, str], now: float) -> str:
    access_key_id, expires, provided = (_first(req.query, name) for name in _V1_QUERY)
    if not access_key_id or not expires or not provided:
        raise _denied(
            "Query string authentication requires the Signature, Expires and OSSAccessKeyId "
            "parameters"
        )
    deadline = _seconds(expires, 10)
    if deadline is None:
        raise _denied("Invalid date (should be seconds since epoch)", "0002-00000070")
    _check_expiry(deadline, now)
    secret = _secret_for(access_key_id, secrets)
    string_to_sign = v1_string_to_sign(req, expires)
    _compare(v1_signature(secret, string_to_sign), provided, access_key_id, string_to_sign)
    return access_key_id


def _verify_v4_header(req: SignedRequest, rest: str, secrets: Mapping[str, str], now: float) -> str:
    fields = _parse_v4_fields(rest)
    access_key_id, date, region = _parse_credential(fields["Credential"], "Authorization")
    additional = _parse_additional(fields.get("AdditionalHeaders"), req, "AdditionalHeaders")
    timestamp = req.headers.get("x-oss-date", "").strip()
    _check_time(timestamp, _parse_time(timestamp, iso_only=True), now, "x-oss-date")
    scope = (access_key_id, date, region)
    return _verify_v4(req, secrets, scope, timestamp, additional, fields["Signature"])


def _verify_v4_query(req: SignedRequest, secrets: Mapping[str, str], now: float) -> str:
    version, credential, timestamp, expires = (_first(req.query, n) for n in _V4_QUERY)
    provided = _first(req.query, "x-oss-signature")
    if version is not None and version != V4_ALGORITHM:
        message = f"Unsupported signature version; signed URLs here use {V4_ALGORITHM} or V1."
        raise invalid_argument(message, "x-oss-signature-version", version)
    if not version or not credential or not timestamp or not expires or not provided:
        raise _denied(
            "Query string authentication requires the x-oss-signature-version, "
            "x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature parameters"
        )
    scope = _parse_credential(credential, "x-oss-credential")
    start = _parse_time(timestamp, iso_only=True)
    if start is None:
        raise _denied("Invalid x-oss-date (should be yyyymmddTHHMMSSZ).", "0002-00000502")
    lifetime = _seconds(expires, 7)
    if lifetime is None or not 0 < lifetime <= MAX_PRESIGN_SECONDS:
        message = f"x-oss-expires must be an integer from 1 to {MAX_PRESIGN_SECONDS} seconds."
        raise invalid_argument(message, "x-oss-expires", expires)
    _check_expiry(start + lifetime, now)
    listed = _first(req.query, "x-oss-additional-headers")
    additional = _parse_additional(listed, req, "x-oss-additional-headers")
    return _verify_v4(req, secrets, scope, timestamp, additional, provided)


def _verify_v4(
    req: SignedRequest,
    secrets: Mapping[str, str],
    scope: tuple[str, str, str],
    timestamp: str,
    additional: list[str],
    provided: str,
) -> str:
    access_key_id, date, region = scope
    secret = _secret_for(access_key_id, secrets)
    canonical_request = v4_canonical_request(req, additional)
    string_to_sign = v4_string_to_sign(
        timestamp, f"{date}/{region}/oss/{V4_TERMINATOR}", canonical_request
    )
    expected = v4_signature(v4_signing_key(secret, date, region), string_to_sign)
    _compare(expected, provided, access_key_id, string_to_sign, CanonicalRequest=canonical_request)
    return access_key_id


def _parse_v4_fields(rest: str) -> dict[str, str]:
    """``Credential=…,AdditionalHeaders=…,Signature=…`` in any order, ``,`` or ``, `` apart."""
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if not eq or name not in _V4_FIELDS or name in fields:
            message = f"{_BAD_HEADER} Unexpected field {part.strip()!r}; {_V4_SHAPE}"
            raise invalid_argument(message, "Authorization", f"{V4_ALGORITHM} {rest}")
        fields[name] = value.strip()
    for required in ("Credential", "Signature"):
        if not fields.get(required):
            message = f"{_BAD_HEADER} {required} is missing; {_V4_SHAPE}"
            raise invalid_argument(message, "Authorization", f"{V4_ALGORITHM} {rest}")
    return fields


def _parse_credential(value: str, where: str) -> tuple[str, str, str]:
    """``<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request`` -> (ak, date, region)."""
    ak, date, region, product, terminator = (value.split("/") + [""] * 5)[:5]
    well_formed = value.count("/") == 4 and ak and region and re.fullmatch(r"[0-9]{8}", date)
    if not well_formed or product != "oss" or terminator != V4_TERMINATOR:
        ec = "0002-00000213" if where == "Authorization" else "0002-00000224"
        message = (
            f"Invalid credential: expected <AccessKeyId>/<yyyymmdd>/<region>/oss/{V4_TERMINATOR}."
        )
        raise _invalid(message, where, value, ec)
    return ak, date, region


def _parse_additional(value: str | None, req: SignedRequest, where: str) -> list[str]:
    """Lower-cased, sorted, de-duplicated names; default-signed ones dropped as the SDKs do."""
    if value is None:
        return []
    names = [name.strip().lower() for name in value.split(";")]
    if not all(names):
        message = f"{where} must list header names separated by ';'."
        raise _invalid(message, where, value, "0002-00000209")
    extra = sorted({n for n in names if not n.startswith("x-oss-") and n not in _V4_DEFAULT_SIGNED})
    missing = [n for n in extra if n not in req.headers]
    if missing:
        message = f"{where} names headers the request does not carry: {';'.join(missing)}."
        raise invalid_argument(message, where, value)
    return extra


def _compare(
    expected: str, provided: str, access_key_id: str, string_to_sign: str, **extra: str
) -> None:
    if not hmac.compare_digest(_utf8(expected), _utf8(provided)):
        raise Forbidden(
            "SignatureDoesNotMatch",
            StringToSign=string_to_sign,
            SignatureProvided=provided,
            StringToSignBytes=_utf8(string_to_sign).hex(" "),
            OSSAccessKeyId=access_key_id,
            **extra,
        )


def _secret_for(access_key_id: str, secrets: Mapping[str, str]) -> str:
    secret = secrets.get(access_key_id)
    if secret is None:
        raise Forbidden("InvalidAccessKeyId", OSSAccessKeyId=access_key_id)
    return secret


def _check_time(raw: str, parsed: float | None, now: float, header: str) -> None:
    if not raw:
        raise _denied(f"The request must carry a {header} header.", "0002-00000503")
    if parsed is None:
        raise _denied(f"Invalid {header} header {raw!r}; {_DATE_SHAPE}", "0002-00000502")
    if abs(parsed - now) > MAX_SKEW_SECONDS:
        raise Forbidden(
            "RequestTimeTooSkewed",
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_SECONDS * 1000),
            RequestTime=_iso(parsed),
            ServerTime=_iso(now),
        )


def _check_expiry(deadline: float, now: float) -> None:
    if now > deadline:
        raise _denied(
            "Request has expired.", "0002-00000069", Expires=_iso(deadline), ServerTime=_iso(now)
        )


def _parse_time(value: str, *, iso_only: bool) -> float | None:
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


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def _seconds(value: str, max_digits: int) -> int | None:
    """ASCII digits only (``str.isdigit`` also accepts '²'), bounded so ``int()`` stays cheap."""
    return int(value) if re.fullmatch(rf"[0-9]{{1,{max_digits}}}", value) else None


def _first(query: Iterable[tuple[str, str]], name: str) -> str | None:
    """OSS reads the first occurrence of a repeated parameter."""
    return next((v for k, v in query if k == name), None)


def _rfc3986(text: str, safe: str = "") -> str:
    return quote(text, safe=safe, errors="surrogatepass")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _denied(message: str, ec: str | None = None, **details: str) -> Forbidden:
    return Forbidden("AccessDenied", message, ec=ec, **details)


def _invalid(message: str, name: str, value: str, ec: str) -> BadRequest:
    return BadRequest("InvalidArgument", message, ec=ec, ArgumentName=name, ArgumentValue=value)
