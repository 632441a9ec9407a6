"""V1: ``base64(HMAC-SHA1(secret, StringToSign))``, in the ``Authorization: OSS ak:sig`` header."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from ..errors import invalid_argument
from .common import (
    BAD_HEADER,
    SUBRESOURCES,
    Credential,
    CredentialLookup,
    SignedRequest,
    check_time,
    compare,
    credential_for,
    parse_time,
    utf8,
)


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
    digest = hmac.new(utf8(secret), utf8(string_to_sign), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_v1_header(
    req: SignedRequest, rest: str, lookup: CredentialLookup, now: float
) -> tuple[str, Credential]:
    access_key_id, colon, provided = rest.strip().partition(":")
    if not colon or not access_key_id or not provided or " " in access_key_id:
        raise invalid_argument(BAD_HEADER, "Authorization", f"OSS {rest}")
    date = (req.headers.get("x-oss-date") or req.headers.get("date") or "").strip()
    check_time(date, parse_time(date, iso_only=False), now, "Date or x-oss-date")
    credential = credential_for(access_key_id, lookup, req)
    secret = credential.secret
    string_to_sign = v1_string_to_sign(req, date)
    compare(v1_signature(secret, string_to_sign), provided, access_key_id, string_to_sign)
    return access_key_id, credential
