"""The two signatures STS clients use (docs/direct-upload.md sections 4.6 and 4.7), as pure
functions over the decoded request, each pinned by a published vector in the tests.

- RPC, HMAC-SHA1 (aliyun-python-sdk-core, ali-oss): every parameter but ``Signature``, sorted
  and RFC 3986 encoded, signed as ``METHOD&%2F&<encoded query>`` with ``secret + "&"``.
- ACS3-HMAC-SHA256 (the tea SDKs): a canonical request over the ``SignedHeaders``, signed as
  ``ACS3-HMAC-SHA256\\n<hex sha256(CanonicalRequest)>`` with the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote

ACS3 = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent(text: str) -> str:
    """RFC 3986 over UTF-8: ``A-Z a-z 0-9 - _ . ~`` stay, the rest ``%XX`` (space ``%20``)."""
    return quote(text, safe="~", errors="surrogatepass")


def rpc_string_to_sign(method: str, params: Iterable[tuple[str, str]]) -> str:
    """``<METHOD>&%2F&`` + percent(sorted ``name=value`` pairs joined by ``&``)."""
    pairs = sorted((k, v) for k, v in params if k != "Signature")
    canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in pairs)
    return f"{method}&%2F&{percent(canonical)}"


def rpc_signature(secret: str, string_to_sign: str) -> str:
    key = (secret + "&").encode()
    return base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha1).digest()).decode()


def parse_acs3(authorization: str) -> dict[str, str] | None:
    """``ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=h1;h2,Signature=hex`` -> its fields."""
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != ACS3:
        return None
    fields = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            fields[name] = value.strip()
    if not all(fields.get(n) for n in ("Credential", "SignedHeaders", "Signature")):
        return None
    return fields


def acs3_canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, list[str]],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """``METHOD\\nURI\\nQuery\\nHeaders\\nSignedHeaders\\nHashedPayload``; ``headers`` maps
    lower-cased names to every value sent under that name (merged sorted, ``,``-joined)."""
    params = sorted((percent(k), percent(v)) for k, v in query)
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.get(name, [])))}\n"
        for name in signed_headers
    )
    return "\n".join(
        [
            method,
            quote(path, safe="/~", errors="surrogatepass"),
            "&".join(f"{k}={v}" for k, v in params),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def acs3_string_to_sign(canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{ACS3}\n{digest}"


def acs3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def matches(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode(), provided.encode())
