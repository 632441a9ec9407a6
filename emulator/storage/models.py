"""Value types the storage layer hands out: plain, frozen, free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: float
    region: str


@dataclass(frozen=True)
class ObjectMeta:
    """One committed object version: everything HEAD returns, and where its bytes are."""

    bucket: str
    key: str
    size: int
    etag: str  # uppercase hex, unquoted; "HEX-N" for multipart objects
    crc64: int
    content_md5: str  # base64; "" for multipart objects
    content_type: str
    last_modified: float
    object_type: str = "Normal"
    #: Stored response headers: cache-control, content-disposition, content-encoding, expires,
    #: x-oss-meta-*; names lower-cased.
    headers: dict[str, str] = field(default_factory=dict)
    blob: str = ""
    #: Canned object ACL (``x-oss-object-acl``): default, private, public-read, public-read-write.
    acl: str = "default"


@dataclass(frozen=True)
class ListPage:
    """One page of ListObjects: keys in byte order, folded prefixes, and where to go on."""

    objects: list[ObjectMeta]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str


@dataclass(frozen=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PartMeta:
    upload_id: str
    part_number: int
    size: int
    etag: str  # uppercase hex MD5, unquoted
    crc64: int
    last_modified: float
    blob: str = ""


@dataclass(frozen=True)
class UploadPage:
    uploads: list[Upload]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str
    next_upload_id_marker: str


@dataclass(frozen=True)
class PartPage:
    parts: list[PartMeta]
    is_truncated: bool
    next_part_number_marker: int
