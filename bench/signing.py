"""Request targets per peer: V1 presigned URLs for ossemu (checked on every request), plain paths
for the S3 peers, the floor and nginx, which take unsigned requests. moto answers anonymous GETs
403 (private objects), so it gets a constant placeholder ``Authorization``, which it does not
verify: no signing cost for it either.

Signing is done once, before the clock starts, so the load tool only replays strings and the
server pays the full verification cost on each request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable
from urllib.parse import quote


def presign_v1(
    secret: str, access_key_id: str, method: str, bucket: str, key: str, expires: int
) -> str:
    """``/bucket/key?OSSAccessKeyId=..&Expires=..&Signature=..`` (no Content-Type, no MD5)."""
    string_to_sign = f"{method}\n\n\n{expires}\n/{bucket}/{key}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    signature = quote(base64.b64encode(digest).decode(), safe="")
    return (
        f"/{bucket}/{quote(key)}?OSSAccessKeyId={quote(access_key_id, safe='')}"
        f"&Expires={expires}&Signature={signature}"
    )


class Targets:
    """Turns (method, bucket, key) into the request target a peer accepts."""

    def __init__(
        self,
        credentials: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        lifetime: int = 6 * 3600,
    ):
        self.credentials = credentials
        self.headers = headers or {}  # sent as they are with every request
        self.expires = int(time.time()) + lifetime

    def path(self, method: str, bucket: str, key: str) -> str:
        if self.credentials is None:
            return f"/{bucket}/{quote(key)}"
        key_id, secret = self.credentials
        return presign_v1(secret, key_id, method, bucket, key, self.expires)

    def paths(self, method: str, bucket: str, keys: Iterable[str]) -> list[str]:
        return [self.path(method, bucket, k) for k in keys]

    @property
    def signed(self) -> bool:
        return self.credentials is not None
