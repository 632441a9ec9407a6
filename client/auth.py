"""OSS request signing: V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256), header and URL forms.

Each spec step is a small pure function so it can be checked against the published vectors;
:class:`Signer` applies them to a request, :class:`OssAuth` plugs that into ``requests``.
The emulator verifies signatures with its own, separate implementation on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import requests

V4_ALGORITHM = "OSS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# Query parameters that V1 signs (CanonicalizedResource); anything else is left out.
# The union of what oss2 and the v2 SDK send, so a server accepting either accepts us.
SUBRESOURCES = frozenset(
    {
        "acl",
        "bucketInfo",
        "location",
        "stat",
        "delete",
        "append",
        "tagging",
        "objectMeta",
        "uploads",
        "uploadId",
        "partNumber",
        "security-token",
        "position",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "restore",
        "callback",
        "callback-var",
        "versions",
        "versioning",
        "versionId",
        "sequential",
        "continuation-token",
        "regionList",
        "cloudboxes",
        "symlink",
        "resourceGroup",
        "logging",
        "website",
        "referer",
        "lifecycle",
        "cors",
        "x-oss-process",
        "x-oss-traffic-limit",
        "img",
        "style",
        "styleName",
        "replication",
        "replicationProgress",
        "replicationLocation",
        "cname",
        "comp",
        "qos",
        "live",
        "status",
        "vod",
        "startTime",
        "endTime",
        "policy",
        "encryption",
        "requestPayment",
        "x-oss-request-payer",
        "inventory",
        "inventoryId",
        "asyncFetch",
        "worm",
        "wormId",
        "wormExtend",
        "qosInfo",
        "transferAcceleration",
        "metaQuery",
        "x-oss-async-process",
    }
)

Params = Iterable[tuple[str, str]]


# --- V1 --------------------------------------------------------------------------------------


def canonical_oss_headers(headers: Mapping[str, str]) -> str:
    """``name:value\\n`` for every ``x-oss-*`` header, lower-cased, trimmed, sorted."""
    items = sorted(
        (k.lower().strip(), str(v).strip())
        for k, v in headers.items()
        if k.lower().startswith("x-oss-")
    )
    return "".join(f"{k}:{v}\n" for k, v in items)


def v1_canonical_resource(bucket: str | None, key: str | None, params: Params = ()) -> str:
    """``/bucket/key`` (raw key) plus the sorted sub-resources, values decoded."""
    resource = f"/{bucket}/{key or ''}" if bucket else "/"
    subs = sorted((k, v) for k, v in params if k in SUBRESOURCES)
    if subs:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)
    return resource


def v1_string_to_sign(
    method: str, headers: Mapping[str, str], resource: str, date: str | None = None
) -> str:
    """VERB, Content-MD5, Content-Type, Date (or ``x-oss-date``, or Expires), headers, resource."""
    lower = {k.lower(): str(v) for k, v in headers.items()}
    if date is None:
        date = lower.get("x-oss-date") or lower.get("date", "")
    return (
        "\n".join(
            [method.upper(), lower.get("content-md5", ""), lower.get("content-type", ""), date]
        )
        + "\n"
        + canonical_oss_headers(headers)
        + resource
    )


def v1_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(secret, string_to_sign))."""
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- V4 --------------------------------------------------------------------------------------


def rfc3986(value: str) -> str:
    """Percent-encode everything but ``A-Za-z0-9-_.~`` (``/`` too)."""
    return quote(value, safe="~")


def v4_canonical_uri(bucket: str | None, key: str | None) -> str:
    """``/bucket/key`` percent-encoded with ``/`` kept; ``/bucket/`` or ``/`` when shorter."""
    uri = "/"
    if bucket:
        uri += f"{bucket}/"
        if key:
            uri += key
    return quote(uri, safe="/~")


def v4_canonical_query(params: Params) -> str:
    """Every parameter, key and value RFC 3986-encoded, sorted; bare ``k`` when empty."""
    pairs = sorted((rfc3986(k), rfc3986(v)) for k, v in params)
    return "&".join(f"{k}={v}" if v else k for k, v in pairs)


def _is_default_signed(name: str) -> bool:
    return name.startswith("x-oss-") or name in ("content-type", "content-md5")


def v4_additional_headers(headers: Mapping[str, str], wanted: Iterable[str]) -> list[str]:
    """The requested extra headers that are present and not signed anyway, sorted."""
    present = {k.lower() for k, v in headers.items() if str(v)}
    names = {n.lower() for n in wanted}
    return sorted(n for n in names if n in present and not _is_default_signed(n))


def v4_canonical_headers(headers: Mapping[str, str], additional: Iterable[str] = ()) -> str:
    """``name:value\\n`` for x-oss-*, content-type, content-md5 and the additional headers."""
    extra = set(additional)
    items = sorted(
        (k.lower(), str(v).strip())
        for k, v in headers.items()
        if _is_default_signed(k.lower()) or k.lower() in extra
    )
    return "".join(f"{k}:{v}\n" for k, v in items)


def v4_canonical_request(
    method: str,
    canonical_uri: str,
    canonical_query: str,
    canonical_headers: str,
    additional: Iterable[str] = (),
    payload_hash: str = UNSIGNED_PAYLOAD,
) -> str:
    """VERB, URI, query, headers block, additional header names, payload hash."""
    return "\n".join(
        [
            method.upper(),
            canonical_uri,
            canonical_query,
            canonical_headers,
            ";".join(additional),
            payload_hash,
        ]
    )


def v4_scope(date: str, region: str, product: str = "oss") -> str:
    """``yyyymmdd/region/oss/aliyun_v4_request``."""
    return f"{date}/{region}/{product}/aliyun_v4_request"


def v4_string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    """Algorithm, ``x-oss-date``, scope, hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    return f"{V4_ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def v4_signing_key(secret: str, date: str, region: str, product: str = "oss") -> bytes:
    """HMAC-SHA256 chain: ``"aliyun_v4"+secret`` -> date -> region -> product -> request."""
    key = ("aliyun_v4" + secret).encode()
    for part in (date, region, product, "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def v4_signature(signing_key: bytes, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256."""
    return hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()


# --- applying the signature ------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """An access key pair, plus the STS token when temporary."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


class CredentialsProvider(Protocol):
    """Anything that hands out current credentials, e.g. :class:`~.sts.AssumeRoleProvider`."""

    def get_credentials(self) -> Credentials: ...


def split_query(query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into pairs; ``+`` stays ``+`` (we never encode space as ``+``)."""
    pairs = []
    for item in query.split("&"):
        if item:
            k, _, v = item.partition("=")
            pairs.append((unquote(k), unquote(v)))
    return pairs


def _v4_dates(now: datetime) -> tuple[str, str]:
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return stamp, stamp[:8]


class Signer:
    """Signs requests with one set of credentials, signature version and region.

    ``clock_offset`` (seconds) is corrected after ``RequestTimeTooSkewed``; everything else is
    immutable, so one signer is shared by all threads of a client.
    """

    def __init__(
        self,
        credentials: Credentials | CredentialsProvider,
        version: str = "v4",
        region: str = "",
    ) -> None:
        if version not in ("v1", "v4"):
            raise ValueError(f"signature_version must be 'v1' or 'v4', not {version!r}")
        self._credentials = credentials
        self.version = version
        self.region = region
        self.clock_offset = 0.0

    @property
    def credentials(self) -> Credentials:
        """The credentials to sign with now (a provider is asked on every request)."""
        creds = self._credentials
        return creds if isinstance(creds, Credentials) else creds.get_credentials()

    def now(self) -> datetime:
        """The (skew-corrected) current time in UTC."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset)

    def sign_headers(
        self,
        method: str,
        headers: MutableMapping[str, str],
        bucket: str | None,
        key: str | None,
        params: Params,
        now: datetime | None = None,
        additional_headers: Iterable[str] = (),
    ) -> None:
        """Add the date, token and ``Authorization`` headers for this request."""
        now = now or self.now()
        creds = self.credentials
        headers["Date"] = format_datetime(now.astimezone(timezone.utc), usegmt=True)
        if creds.security_token:
            headers["x-oss-security-token"] = creds.security_token
        if self.version == "v1":
            resource = v1_canonical_resource(bucket, key, params)
            signature = v1_signature(
                creds.access_key_secret, v1_string_to_sign(method, headers, resource)
            )
            headers["Authorization"] = f"OSS {creds.access_key_id}:{signature}"
            return
        stamp, day = _v4_dates(now)
        headers["x-oss-date"] = stamp
        headers["x-oss-content-sha256"] = UNSIGNED_PAYLOAD
        extra = v4_additional_headers(headers, additional_headers)
        canonical = v4_canonical_request(
            method,
            v4_canonical_uri(bucket, key),
            v4_canonical_query(params),
            v4_canonical_headers(headers, extra),
            extra,
        )
        scope = v4_scope(day, self.region)
        signature = v4_signature(
            v4_signing_key(creds.access_key_secret, day, self.region),
            v4_string_to_sign(stamp, scope, canonical),
        )
        auth = f"{V4_ALGORITHM} Credential={creds.access_key_id}/{scope}"
        if extra:
            auth += f",AdditionalHeaders={';'.join(extra)}"
        headers["Authorization"] = f"{auth},Signature={signature}"

    def presign(
        self,
        method: str,
        bucket: str | None,
        key: str | None,
        params: Params,
        headers: Mapping[str, str],
        expires: int,
        now: datetime | None = None,
    ) -> list[tuple[str, str]]:
        """The query parameters (original ones first) that authorise a URL for ``expires`` s."""
        now = now or self.now()
        creds = self.credentials
        query = list(params)
        if self.version == "v1":
            if creds.security_token:
                query.append(("security-token", creds.security_token))
            expires_at = str(int(now.timestamp()) + expires)
            resource = v1_canonical_resource(bucket, key, query)
            signature = v1_signature(
                creds.access_key_secret, v1_string_to_sign(method, headers, resource, expires_at)
            )
            return [
                *query,
                ("OSSAccessKeyId", creds.access_key_id),
                ("Expires", expires_at),
                ("Signature", signature),
            ]
        stamp, day = _v4_dates(now)
        scope = v4_scope(day, self.region)
        query += [
            ("x-oss-signature-version", V4_ALGORITHM),
            ("x-oss-date", stamp),
            ("x-oss-expires", str(expires)),
            ("x-oss-credential", f"{creds.access_key_id}/{scope}"),
        ]
        if creds.security_token:
            query.append(("x-oss-security-token", creds.security_token))
        canonical = v4_canonical_request(
            method,
            v4_canonical_uri(bucket, key),
            v4_canonical_query(query),
            v4_canonical_headers(headers),
        )
        signature = v4_signature(
            v4_signing_key(creds.access_key_secret, day, self.region),
            v4_string_to_sign(stamp, scope, canonical),
        )
        return [*query, ("x-oss-signature", signature)]


class OssAuth(requests.auth.AuthBase):
    """Signs one prepared request for ``bucket``/``key`` (the canonical resource needs both)."""

    def __init__(self, signer: Signer, bucket: str | None = None, key: str | None = None) -> None:
        self.signer = signer
        self.bucket = bucket
        self.key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        params = split_query(urlsplit(r.url or "").query)
        self.signer.sign_headers(r.method or "GET", r.headers, self.bucket, self.key, params)
        for name, value in list(r.headers.items()):
            # OSS reads (and signs) UTF-8 bytes; http.client writes one byte per character.
            if isinstance(value, str) and not value.isascii():
                r.headers[name] = value.encode("utf-8").decode("latin-1")
        return r
