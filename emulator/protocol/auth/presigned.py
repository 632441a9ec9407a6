"""Presigned URLs: the V1 (``OSSAccessKeyId``/``Expires``/``Signature``) and V4
(``x-oss-credential``…``x-oss-signature``) query forms, whose deadline is the expiry check."""

from __future__ import annotations

from ..errors import invalid_argument
from .common import (
    MAX_PRESIGN_SECONDS,
    MAX_SKEW_SECONDS,
    V1_QUERY,
    V4_ALGORITHM,
    V4_QUERY,
    Credential,
    CredentialLookup,
    SignedRequest,
    check_expiry,
    check_time,
    compare,
    credential_for,
    denied,
    first,
    firsts,
    parse_time,
    seconds,
)
from .v1 import v1_signature, v1_string_to_sign
from .v4 import check_scope, check_scope_date, parse_additional, parse_credential, verify_v4


def verify_v1_query(
    req: SignedRequest, lookup: CredentialLookup, now: float
) -> tuple[str, Credential]:
    access_key_id, expires, provided = firsts(req.query, V1_QUERY)
    if not access_key_id or not expires or not provided:
        raise denied(
            "Query string authentication requires the Signature, Expires and OSSAccessKeyId "
            "parameters"
        )
    deadline = seconds(expires, 10)
    if deadline is None:
        raise denied("Invalid date (should be seconds since epoch)", "0002-00000070")
    check_expiry(deadline, now)
    credential = credential_for(access_key_id, lookup, req)
    secret = credential.secret
    string_to_sign = v1_string_to_sign(req, expires)
    compare(v1_signature(secret, string_to_sign), provided, access_key_id, string_to_sign)
    return access_key_id, credential


def verify_v4_query(
    req: SignedRequest, lookup: CredentialLookup, now: float, server_region: str | None = None
) -> tuple[str, Credential]:
    version, credential, timestamp, expires, provided = firsts(
        req.query, (*V4_QUERY, "x-oss-signature")
    )
    if version is not None and version != V4_ALGORITHM:
        message = f"Unsupported signature version; signed URLs here use {V4_ALGORITHM} or V1."
        raise invalid_argument(message, "x-oss-signature-version", version)
    if not version or not credential or not timestamp or not expires or not provided:
        raise denied(
            "Query string authentication requires the x-oss-signature-version, "
            "x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature parameters"
        )
    scope = parse_credential(credential, "x-oss-credential")
    check_scope(scope[1], scope[2], server_region, "x-oss-credential", credential)
    start = parse_time(timestamp, iso_only=True)
    if start is None:
        raise denied("Invalid x-oss-date (should be yyyymmddTHHMMSSZ).", "0002-00000502")
    check_scope_date(scope[1], timestamp, "x-oss-credential", now)
    if start - now > MAX_SKEW_SECONDS:
        # Signed for later: the 7-day limit on x-oss-expires would mean nothing otherwise.
        check_time(timestamp, start, now, "x-oss-date")
    lifetime = seconds(expires, 7)
    if lifetime is None or not 0 < lifetime <= MAX_PRESIGN_SECONDS:
        message = f"x-oss-expires must be an integer from 1 to {MAX_PRESIGN_SECONDS} seconds."
        raise invalid_argument(message, "x-oss-expires", expires)
    check_expiry(start + lifetime, now)
    listed = first(req.query, "x-oss-additional-headers")
    additional = parse_additional(listed, req, "x-oss-additional-headers")
    return verify_v4(req, lookup, scope, timestamp, additional, provided)
