"""Endpoint parsing and URL building: scheme, region, path-style vs virtual-hosted.

Local endpoints (IPv4, IPv6, ``localhost``) get plain http and path-style URLs, so
``http://127.0.0.1:8090`` works with no flags; public ones get https and ``bucket.host``.
Keys keep ``/`` and use ``%20`` for spaces; the signature always uses ``/bucket/key``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .exceptions import ClientError

_OSS_HOST = re.compile(r"^oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
DEFAULT_LOCAL_REGION = "cn-hangzhou"


def is_local_host(host: str) -> bool:
    """True for IP literals and ``localhost`` (they cannot carry a ``bucket.`` prefix)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def region_from_host(host: str) -> str | None:
    """``oss-cn-hangzhou[-internal].aliyuncs.com`` -> ``cn-hangzhou``; None otherwise."""
    match = _OSS_HOST.match(host.lower())
    if not match or match.group(1) == "accelerate":
        return None
    return match.group(1)


def validate_bucket_name(name: str) -> str:
    """OSS naming rules: 3-63 of ``a-z 0-9 -``, starting and ending alphanumeric."""
    if not isinstance(name, str) or not _BUCKET_NAME.match(name):
        raise ClientError(
            f"Invalid bucket name {name!r}: use 3-63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit."
        )
    return name


def quote_key(key: str) -> str:
    """Percent-encode a key for the URL path, keeping ``/`` (``a b/c+d`` -> ``a%20b/c%2Bd``)."""
    return quote(key, safe="/~")


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how buckets are addressed."""

    scheme: str
    netloc: str
    host: str
    path_style: bool
    region: str | None

    @classmethod
    def parse(cls, endpoint: str, *, path_style: bool | None = None) -> Endpoint:
        """Accept ``host[:port]`` or ``scheme://host[:port]``; nothing after the authority."""
        if not endpoint or not isinstance(endpoint, str):
            raise ClientError("endpoint is required, e.g. 'https://oss-cn-hangzhou.aliyuncs.com'")
        text = endpoint.strip().rstrip("/")
        if "://" not in text:
            bare = urlsplit("//" + text)
            local = is_local_host(bare.hostname or "")
            text = ("http://" if local else "https://") + text
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"Invalid endpoint {endpoint!r}: expected http(s)://host[:port]")
        if parts.path or parts.query or parts.fragment or parts.username:
            raise ClientError(f"Invalid endpoint {endpoint!r}: it must not contain a path or query")
        try:
            parts.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise ClientError(f"Invalid endpoint {endpoint!r}: {exc}") from exc
        host = parts.hostname
        local = is_local_host(host)
        return cls(
            scheme=parts.scheme,
            netloc=parts.netloc,
            host=host,
            path_style=local if path_style is None else path_style,
            region=region_from_host(host),
        )

    @property
    def is_local(self) -> bool:
        """True for IP literals and ``localhost``."""
        return is_local_host(self.host)

    def url(self, bucket: str | None = None, key: str | None = None, query: str = "") -> str:
        """The request URL for a service (no bucket), bucket (no key) or object request."""
        path = "/"
        netloc = self.netloc
        if bucket:
            if self.path_style:
                path = f"/{bucket}/"
            else:
                netloc = f"{bucket}.{netloc}"
            if key:
                path += quote_key(key)
        url = f"{self.scheme}://{netloc}{path}"
        return f"{url}?{query}" if query else url


def encode_query(params: list[tuple[str, str]]) -> str:
    """``k=v`` pairs RFC 3986-encoded (``%20``, never ``+``); bare ``k`` for empty values."""
    return "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}" if v else quote(k, safe="~") for k, v in params
    )
