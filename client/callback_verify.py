"""Check that a callback request really comes from OSS (or from ossemu) before trusting it.

Call :func:`verify_callback_request` in your app server for each callback POST. OSS signs
``unquote(path) + ("?" + raw query) + "\\n" + body`` with RSA PKCS#1 v1.5 over MD5 and sends the
signature base64-encoded in ``authorization``; the public key's URL comes base64-encoded in
``x-oss-pub-key-url``. Anyone can put their own key's URL there, so keys are fetched only from
trusted URL prefixes (Alibaba's docs require this check) and cached per URL.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Mapping, Sequence
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

#: Loopback (where ossemu serves its key) and Alibaba's published key host.
DEFAULT_TRUSTED_PREFIXES: tuple[str, ...] = (
    "http://127.0.0.1",
    "http://localhost",
    "http://[::1]",
    "https://gosspublic.alicdn.com/",
)
_MAX_PEM_BYTES = 64 * 1024

_pem_cache: dict[str, bytes] = {}
_pem_cache_lock = threading.Lock()


def callback_string_to_sign(target: str, body: bytes) -> bytes:
    """The bytes OSS signs for a request to ``target`` (path plus ``?query``) with ``body``."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path, _, query = target.partition("?")
    query_part = f"?{query}".encode() if query else b""
    return unquote_to_bytes(path) + query_part + b"\n" + body


def public_key_url(headers: Mapping[str, str]) -> str | None:
    """The decoded ``x-oss-pub-key-url`` header, or None when missing or not base64 text."""
    value = _lower(headers).get("x-oss-pub-key-url")
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def is_trusted_key_url(url: str, prefixes: Sequence[str] = DEFAULT_TRUSTED_PREFIXES) -> bool:
    """Whether ``url`` starts with a trusted prefix *at a boundary*.

    ``http://localhost`` must not admit ``http://localhost.evil.example/`` nor
    ``http://localhost:1@evil.example/``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or any(c in parts.netloc for c in "@\\"):
        return False
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return False
    for prefix in prefixes:
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            if prefix.endswith("/") or not rest or rest[0] in ":/?#":
                return True
    return False


def fetch_public_key(url: str, *, timeout: float = 5.0) -> bytes:
    """The PEM at ``url`` (cached); raises ``ValueError`` or ``requests.RequestException``."""
    with _pem_cache_lock:
        cached = _pem_cache.get(url)
    if cached is not None:
        return cached
    with requests.Session() as session:
        session.trust_env = False  # a loopback key server must not go through a proxy
        response = session.get(url, timeout=timeout, allow_redirects=False)
    if response.status_code != 200:
        raise ValueError(f"{url} answered {response.status_code}")
    pem = response.content
    if len(pem) > _MAX_PEM_BYTES:
        raise ValueError(f"{url} sent {len(pem)} bytes, too many for a public key")
    _load_rsa_key(pem)
    with _pem_cache_lock:
        _pem_cache[url] = pem
    return pem


def verify_callback_request(
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    public_key_pem: bytes | None = None,
    trusted_key_url_prefixes: Sequence[str] = DEFAULT_TRUSTED_PREFIXES,
    timeout: float = 5.0,
) -> bool:
    """True when ``authorization`` is a valid OSS callback signature of this request.

    ``target`` is the raw request target (path plus ``?query``, as received); ``headers`` are
    matched case-insensitively. Without ``public_key_pem`` the key is fetched from
    ``x-oss-pub-key-url``; an untrusted or unreachable key URL gives False.
    """
    authorization = _lower(headers).get("authorization")
    if not authorization:
        return False
    try:
        signature = base64.b64decode(authorization, validate=True)
    except (binascii.Error, ValueError):
        return False
    if public_key_pem is None:
        url = public_key_url(headers)
        if url is None or not is_trusted_key_url(url, trusted_key_url_prefixes):
            return False
        try:
            public_key_pem = fetch_public_key(url, timeout=timeout)
        except (requests.RequestException, ValueError):
            return False
    try:
        key = _load_rsa_key(public_key_pem)
        key.verify(
            signature, callback_string_to_sign(target, body), padding.PKCS1v15(), hashes.MD5()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _load_rsa_key(pem: bytes) -> RSAPublicKey:
    try:
        key = load_pem_public_key(pem)
    except UnsupportedAlgorithm as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"not an RSA public key: {type(key).__name__}")
    return key


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
