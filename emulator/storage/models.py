"""Value types the storage layer hands out: plain, frozen, free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: float
    region: str
    storage_class: str = "Standard"


@dataclass(frozen=True)
class RestoreStatus:
    """A restore of an archived object: under way, or done and readable until ``expires``."""

    ongoing: bool
    expires: float


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
    storage_class: str = "Standard"
    #: Object tags (x-oss-tagging, PutObjectTagging), in the order given.
    tags: dict[str, str] = field(default_factory=dict)
    #: The key a ``Symlink`` object points at ("" for every other type).
    symlink_target: str = ""
    #: An archived object's restore, when one is under way or done (see ``storage.restore``).
    restore: RestoreStatus | None = None

    def stored_as(self, blob: str) -> ObjectMeta:
        """This version with its bytes at ``blob``: what every commit hands back. A copy of the
        fields, since ``dataclasses.replace`` runs ``__init__`` again (4 us of a 4 KiB PUT)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, blob=blob)
        return copy


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

    @property
    def storage_class(self) -> str:
        """The class the object will have (uploads begun before classes were kept: Standard)."""
        return self.headers.get("x-oss-storage-class", "Standard")


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
    #: The upload the parts belong to (ListParts echoes some of its headers).
    upload: Upload | None = None
