"""Result value objects: small, frozen, built from response headers or XML.

ETags are unquoted; CRC-64 values are ints (``None`` when the server sent none). On callback
uploads the response body is the app server's reply, so every field comes from headers and
the reply is kept verbatim in ``callback_body``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from .xmlutil import Document, parse_http_date

META_PREFIX = "x-oss-meta-"


def unquote_etag(etag: str | None) -> str | None:
    """``"ABC"`` -> ``ABC``."""
    return etag.strip().strip('"') if etag else None


def parse_crc(value: str | None) -> int | None:
    """The decimal ``x-oss-hash-crc64ecma`` value, or None."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _headers(resp: requests.Response) -> CaseInsensitiveDict[str]:
    return CaseInsensitiveDict(resp.headers)


@dataclass(frozen=True, kw_only=True)
class RequestResult:
    """What every response carries."""

    status: int
    request_id: str | None
    headers: Mapping[str, str] = field(repr=False, compare=False)

    @staticmethod
    def _common(resp: requests.Response) -> dict[str, Any]:
        return {
            "status": resp.status_code,
            "request_id": resp.headers.get("x-oss-request-id"),
            "headers": _headers(resp),
        }


@dataclass(frozen=True, kw_only=True)
class PutObjectResult(RequestResult):
    """A stored object (PutObject, and the base of CompleteMultipartUpload)."""

    etag: str | None
    crc64: int | None
    version_id: str | None = None
    callback_body: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_response(cls, resp: requests.Response, has_callback: bool) -> PutObjectResult:
        """Fields from the headers; the body is the callback reply when there was one."""
        return cls(**_written(resp, has_callback))

    def callback_json(self) -> Any:
        """The app server's reply parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        if self.callback_body is None:
            raise ValueError("This upload had no callback, so there is no callback reply.")
        return json.loads(self.callback_body)


def _written(resp: requests.Response, has_callback: bool) -> dict[str, Any]:
    return {
        **RequestResult._common(resp),
        "etag": unquote_etag(resp.headers.get("ETag")),
        "crc64": parse_crc(resp.headers.get("x-oss-hash-crc64ecma")),
        "version_id": resp.headers.get("x-oss-version-id"),
        "callback_body": resp.content if has_callback else None,
    }


@dataclass(frozen=True, kw_only=True)
class CompleteMultipartUploadResult(PutObjectResult):
    """A multipart object; ``bucket``/``key``/``location`` only without a callback (XML)."""

    bucket: str | None = None
    key: str | None = None
    location: str | None = None

    @classmethod
    def from_response(
        cls, resp: requests.Response, has_callback: bool
    ) -> CompleteMultipartUploadResult:
        """Headers first; the XML body (no callback) fills the rest."""
        fields = _written(resp, has_callback)
        if not has_callback and resp.content.strip():
            doc = Document.parse(resp.content)
            fields["etag"] = fields["etag"] or unquote_etag(doc.text("ETag"))
            fields.update(
                bucket=doc.text("Bucket"), key=doc.key("Key"), location=doc.text("Location")
            )
        return cls(**fields)


@dataclass(frozen=True, kw_only=True)
class CopyObjectResult(RequestResult):
    """The copy's ETag and time."""

    etag: str | None
    crc64: int | None
    version_id: str | None
    last_modified: datetime | None

    @classmethod
    def from_response(cls, resp: requests.Response) -> CopyObjectResult:
        """From ``<CopyObjectResult>`` plus headers."""
        doc = Document.parse(resp.content)
        return cls(
            **RequestResult._common(resp),
            etag=unquote_etag(doc.text("ETag") or resp.headers.get("ETag")),
            crc64=parse_crc(resp.headers.get("x-oss-hash-crc64ecma")),
            version_id=resp.headers.get("x-oss-version-id"),
            last_modified=doc.timestamp("LastModified"),
        )


@dataclass(frozen=True, kw_only=True)
class ObjectMeta(RequestResult):
    """An object's metadata (HeadObject, GetObjectMeta, or a GetObject's headers)."""

    size: int
    etag: str | None
    content_type: str | None
    last_modified: datetime | None
    crc64: int | None
    object_type: str | None
    storage_class: str | None
    version_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_response(cls, resp: requests.Response) -> ObjectMeta:
        """From the object's response headers (``x-oss-meta-*`` become ``metadata``)."""
        h = resp.headers
        size = h.get("Content-Length", "0")
        if resp.status_code == 206 and "/" in h.get("Content-Range", ""):
            size = h["Content-Range"].rsplit("/", 1)[1]
        return cls(
            **RequestResult._common(resp),
            size=int(size) if size.isdigit() else 0,
            etag=unquote_etag(h.get("ETag")),
            content_type=h.get("Content-Type"),
            last_modified=parse_http_date(h.get("Last-Modified")),
            crc64=parse_crc(h.get("x-oss-hash-crc64ecma")),
            object_type=h.get("x-oss-object-type"),
            storage_class=h.get("x-oss-storage-class"),
            version_id=h.get("x-oss-version-id"),
            metadata={
                k.lower()[len(META_PREFIX) :]: _header_text(v)
                for k, v in h.items()
                if k.lower().startswith(META_PREFIX)
            },
        )


@dataclass(frozen=True)
class ObjectSummary:
    """One object in a listing."""

    key: str
    size: int
    etag: str | None
    last_modified: datetime | None
    storage_class: str | None = None
    object_type: str | None = None


@dataclass(frozen=True)
class CommonPrefix:
    """A "directory" in a delimited listing."""

    prefix: str


@dataclass(frozen=True)
class BucketInfo:
    """One bucket in ListBuckets."""

    name: str
    location: str | None
    creation_date: datetime | None
    storage_class: str | None = None
    region: str | None = None
    extranet_endpoint: str | None = None
    intranet_endpoint: str | None = None


@dataclass(frozen=True)
class PartResult:
    """An uploaded part: what Complete needs (number, etag) plus size and CRC to verify."""

    number: int
    etag: str
    size: int | None = None
    crc64: int | None = None
    last_modified: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MultipartUpload:
    """An in-progress multipart upload."""

    key: str
    upload_id: str
    initiated: datetime | None = None


def _header_text(value: str) -> str:
    """A response header as the server sent it: http.client reads bytes as latin-1, and OSS
    sends metadata back in the UTF-8 it was stored in."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value
