"""V4: ``hex(HMAC-SHA256(SigningKey, StringToSign))``, in the ``Authorization`` header; the
scope and header parsing that a V4 presigned URL shares."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

from ..errors import BadRequest, invalid_argument
from .common import (
    BAD_HEADER,
    UNSIGNED_PAYLOAD,
    V4_ALGORITHM,
    V4_DEFAULT_SIGNED,
    V4_FIELDS,
    V4_SHAPE,
    V4_TERMINATOR,
    Credential,
    CredentialLookup,
    SignedRequest,
    check_time,
    compare,
    credential_for,
    invalid,
    iso,
    parse_time,
    rfc3986,
    utf8,
)


def v4_canonical_request(req: SignedRequest, additional_headers: Sequence[str] = ()) -> str:
    """``VERB\\nURI\\nQuery\\nHeaders\\nAdditionalHeaders\\nHashedPayload`` (RFC 3986 encoded).

    ``additional_headers`` must already be lower-cased, sorted and free of default-signed names.
    """
    uri = f"/{req.bucket}/{req.key or ''}" if req.bucket else "/"
    params = sorted((rfc3986(k), rfc3986(v)) for k, v in req.query if k != "x-oss-signature")
    signed = V4_DEFAULT_SIGNED.union(additional_headers)
    headers = sorted(
        (k, v.strip()) for k, v in req.headers.items() if k.startswith("x-oss-") or k in signed
    )
    return "\n".join(
        [
            req.method,
            rfc3986(uri, safe="/"),
            "&".join(f"{k}={v}" if v else k for k, v in params),
            "".join(f"{k}:{v}\n" for k, v in headers),
            ";".join(additional_headers),
            req.headers.get("x-oss-content-sha256", UNSIGNED_PAYLOAD),
        ]
    )


def v4_string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    """``OSS4-HMAC-SHA256\\n<x-oss-date>\\n<scope>\\n<hex sha256(CanonicalRequest)>``."""
    digest = hashlib.sha256(utf8(canonical_request)).hexdigest()
    return f"{V4_ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def v4_signing_key(secret: str, date: str, region: str, product: str = "oss") -> bytes:
    """HMAC-SHA256 chain: ``"aliyun_v4" + secret`` -> date -> region -> product -> terminator."""
    key = utf8("aliyun_v4" + secret)
    for part in (date, region, product, V4_TERMINATOR):
        key = hmac.new(key, utf8(part), hashlib.sha256).digest()
    return key


def v4_signature(signing_key: bytes, string_to_sign: str) -> str:
    """The 64 lowercase hex digits of a V4 signature."""
    return hmac.new(signing_key, utf8(string_to_sign), hashlib.sha256).hexdigest()


def verify_v4_header(
    req: SignedRequest,
    rest: str,
    lookup: CredentialLookup,
    now: float,
    server_region: str | None = None,
) -> tuple[str, Credential]:
    fields = _parse_v4_fields(rest)
    access_key_id, date, region = parse_credential(fields["Credential"], "Authorization")
    check_scope(date, region, server_region, "Authorization header", fields["Credential"])
    additional = parse_additional(fields.get("AdditionalHeaders"), req, "AdditionalHeaders")
    timestamp = req.headers.get("x-oss-date", "").strip()
    check_time(timestamp, parse_time(timestamp, iso_only=True), now, "x-oss-date")
    check_scope_date(date, timestamp, "Authorization header", now)
    scope = (access_key_id, date, region)
    return verify_v4(req, lookup, scope, timestamp, additional, fields["Signature"])


def check_scope(
    date: str, region: str, server_region: str | None, where: str, credential: str
) -> None:
    """The credential's region must be the server's (OSS: 400 InvalidArgument, EC
    0002-00000226, "Invalid signing region in Authorization header."); an empty one has its
    own message, which oss2's test_sign_v4_no_region pins."""
    if not region:
        raise invalid_argument(
            "The signing region in credential is invalid.", where, credential, ec=_BAD_REGION
        )
    if server_region is not None and region != server_region:
        raise invalid_argument(
            f"Invalid signing region in {where}.", where, credential, ec=_BAD_REGION
        )


def check_scope_date(date: str, timestamp: str, where: str, now: float) -> None:
    """The scope's date must be x-oss-date's day: the message is OSS's, which the official SDKs
    read as a clock skew to correct (they then take ``ServerTime``)."""
    if timestamp[:8] != date:
        raise BadRequest(
            "InvalidArgument",
            f"Invalid signing date in {where}.",
            ServerTime=iso(now),
            ArgumentName=where,
            ArgumentValue=date,
        )


_BAD_REGION = "0002-00000226"


def verify_v4(
    req: SignedRequest,
    lookup: CredentialLookup,
    scope: tuple[str, str, str],
    timestamp: str,
    additional: list[str],
    provided: str,
) -> tuple[str, Credential]:
    access_key_id, date, region = scope
    credential = credential_for(access_key_id, lookup, req)
    secret = credential.secret
    canonical_request = v4_canonical_request(req, additional)
    string_to_sign = v4_string_to_sign(
        timestamp, f"{date}/{region}/oss/{V4_TERMINATOR}", canonical_request
    )
    expected = v4_signature(v4_signing_key(secret, date, region), string_to_sign)
    compare(expected, provided, access_key_id, string_to_sign, CanonicalRequest=canonical_request)
    return access_key_id, credential


def _parse_v4_fields(rest: str) -> dict[str, str]:
    """``Credential=…,AdditionalHeaders=…,Signature=…`` in any order, ``,`` or ``, `` apart."""
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if not eq or name not in V4_FIELDS or name in fields:
            message = f"{BAD_HEADER} Unexpected field {part.strip()!r}; {V4_SHAPE}"
            raise invalid_argument(message, "Authorization", f"{V4_ALGORITHM} {rest}")
        fields[name] = value.strip()
    for required in ("Credential", "Signature"):
        if not fields.get(required):
            message = f"{BAD_HEADER} {required} is missing; {V4_SHAPE}"
            raise invalid_argument(message, "Authorization", f"{V4_ALGORITHM} {rest}")
    return fields


def parse_credential(value: str, where: str) -> tuple[str, str, str]:
    """``<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request`` -> (ak, date, region)."""
    ak, date, region, product, terminator = (value.split("/") + [""] * 5)[:5]
    well_formed = value.count("/") == 4 and ak and re.fullmatch(r"[0-9]{8}", date)
    if not well_formed or product != "oss" or terminator != V4_TERMINATOR:
        ec = "0002-00000213" if where == "Authorization" else "0002-00000224"
        message = (
            f"Invalid credential: expected <AccessKeyId>/<yyyymmdd>/<region>/oss/{V4_TERMINATOR}."
        )
        raise invalid(message, where, value, ec)
    return ak, date, region


def parse_additional(value: str | None, req: SignedRequest, where: str) -> list[str]:
    """Lower-cased, sorted, de-duplicated names; default-signed ones dropped as the SDKs do."""
    if value is None:
        return []
    names = [name.strip().lower() for name in value.split(";")]
    if not all(names):
        message = f"{where} must list header names separated by ';'."
        raise invalid(message, where, value, "0002-00000209")
    extra = sorted({n for n in names if not n.startswith("x-oss-") and n not in V4_DEFAULT_SIGNED})
    missing = [n for n in extra if n not in req.headers]
    if missing:
        message = f"{where} names headers the request does not carry: {';'.join(missing)}."
        raise invalid_argument(message, where, value)
    return extra
