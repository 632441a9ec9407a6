"""What every bucket operation shares: the request helper, header building and CRC checks."""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from .body import RequestBody
from .crc import combine
from .endpoint import validate_bucket_name
from .exceptions import ClientError, InconsistentError, ServerError
from .models import PartResult, parse_crc
from .transport import Transport

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_META_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def check_key(key: str) -> str:
    """Object keys are non-empty UTF-8 of at most 1023 bytes."""
    if not isinstance(key, str) or not key:
        raise ClientError("Object key must be a non-empty string.")
    if len(key.encode()) > 1023:
        raise ClientError("Object key must be at most 1023 bytes of UTF-8.")
    return key


def guess_content_type(*names: str | os.PathLike[str] | None) -> str:
    """MIME type from the first name with a known extension, else octet-stream."""
    for name in names:
        if name:
            guessed, _ = mimetypes.guess_type(os.fspath(name), strict=False)
            if guessed:
                return guessed
    return DEFAULT_CONTENT_TYPE


def object_headers(
    content_type: str | None,
    metadata: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
) -> dict[str, str]:
    """Content-Type, ``x-oss-meta-*`` (names lower-cased) and the caller's own headers last."""
    out: dict[str, str] = {}
    if content_type:
        out["Content-Type"] = content_type
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _META_NAME.match(name):
            raise ClientError(f"Metadata name {name!r} may only hold letters, digits and '-'.")
        text = str(value)
        if any(ch in text for ch in "\r\n"):
            raise ClientError(f"Metadata value for {name!r} must be a single line.")
        out[f"x-oss-meta-{name.lower()}"] = text
    out.update(headers or {})
    return out


class BucketBase:
    """A bucket name bound to a client's transport; no request is made on creation."""

    def __init__(self, transport: Transport, name: str, *, enable_crc: bool = True) -> None:
        self.name = validate_bucket_name(name)
        self._transport = transport
        self.enable_crc = enable_crc

    def __repr__(self) -> str:
        return f"Bucket({self.name!r})"

    def _request(
        self,
        method: str,
        key: str | None = None,
        *,
        params: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: RequestBody | bytes | None = None,
        stream: bool = False,
        has_callback: bool = False,
    ) -> requests.Response:
        return self._transport.request(
            method,
            bucket=self.name,
            key=key,
            params=params,
            headers=headers,
            body=body,
            stream=stream,
            has_callback=has_callback,
        )

    def _check_upload(self, body: RequestBody | None, resp: requests.Response) -> None:
        """Compare what we streamed with the server's CRC-64 (skipped when it sent none)."""
        if body is not None:
            body.reporter.update(body.sent)
        server = parse_crc(resp.headers.get("x-oss-hash-crc64ecma"))
        if not self.enable_crc or server is None:
            return
        client = body.crc.value if body is not None else 0
        if client != server:
            raise InconsistentError(client, server, resp.headers.get("x-oss-request-id"))

    def _check_combined(self, parts: list[PartResult], resp: requests.Response) -> None:
        """After Complete: the parts' CRCs combined must equal the object's CRC."""
        server = parse_crc(resp.headers.get("x-oss-hash-crc64ecma"))
        if not self.enable_crc or server is None:
            return
        if any(p.crc64 is None or p.size is None for p in parts):
            return
        client = 0
        for part in parts:
            client = combine(client, part.crc64 or 0, part.size or 0)
        if client != server:
            raise InconsistentError(client, server, resp.headers.get("x-oss-request-id"))

    @staticmethod
    def _raise_if_callback_failed(resp: requests.Response, has_callback: bool) -> None:
        """203 means stored but the callback failed: raise ``CallbackError`` with the ETag."""
        if has_callback and resp.status_code == 203:
            raise ServerError.from_response(resp)
