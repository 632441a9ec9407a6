"""Bytes and metadata on disk: no HTTP, no Flask. May import only ``emulator.protocol.errors``
and ``emulator.clock``.

The layout and the commit order are drawn in :mod:`emulator.storage.store`. :class:`ObjectStore`
is what the routes may call; :class:`Storage` is the one implementation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

from .append import next_append_position
from .hashing import crc64, crc64_combine
from .models import BucketInfo, ListPage, ObjectMeta, PartMeta, PartPage, Upload, UploadPage
from .multipart import MAX_PART_NUMBER, MIN_PART_SIZE, check_part_number
from .names import check_bucket_name, check_object_key
from .store import Storage


class ObjectStore(Protocol):
    """The OSS operations storage offers the routes (each as the operation is named)."""

    def create_bucket(
        self, name: str, *, storage_class: str = "Standard", acl: str | None = None
    ) -> BucketInfo: ...
    def get_bucket_setting(self, bucket: str, name: str) -> str | None: ...
    def put_bucket_setting(self, bucket: str, name: str, value: str | None) -> None: ...
    def expire(
        self,
        bucket: str,
        prefix: str,
        *,
        objects_before: float | None = None,
        uploads_before: float | None = None,
    ) -> int: ...
    def get_bucket(self, name: str) -> BucketInfo: ...
    def usage(self, bucket: str) -> tuple[int, int]: ...
    def delete_bucket(self, name: str) -> None: ...
    def list_buckets(
        self, prefix: str = "", marker: str = "", max_keys: int = 100
    ) -> tuple[list[BucketInfo], bool]: ...
    def list_objects(
        self, bucket: str, *, prefix: str, marker: str, delimiter: str, max_keys: int
    ) -> ListPage: ...
    def put_object(
        self,
        bucket: str,
        key: str,
        chunks: Iterator[bytes],
        *,
        content_type: str,
        headers: dict[str, str],
        forbid_overwrite: bool,
        expected_md5: str | None,
        expected_size: int | None,
        acl: str = "default",
        storage_class: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ObjectMeta: ...
    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        content_type: str | None,
        headers: dict[str, str] | None,
        forbid_overwrite: bool,
        storage_class: str | None = None,
        tags: dict[str, str] | None = None,
        acl: str = "default",
    ) -> ObjectMeta: ...
    def append_object(
        self,
        bucket: str,
        key: str,
        position: int,
        chunks: Iterator[bytes],
        *,
        content_type: str,
        headers: dict[str, str],
        expected_md5: str | None,
        expected_size: int | None,
    ) -> ObjectMeta: ...
    def put_symlink(
        self,
        bucket: str,
        key: str,
        target: str,
        *,
        content_type: str,
        headers: dict[str, str],
        forbid_overwrite: bool,
    ) -> ObjectMeta: ...
    def get_symlink(self, bucket: str, key: str) -> ObjectMeta: ...
    def restore_object(
        self, bucket: str, key: str, *, days: int, delay: float
    ) -> tuple[int, ObjectMeta]: ...
    def open_object(
        self, bucket: str, key: str, *, follow_symlink: bool = False
    ) -> tuple[ObjectMeta, BinaryIO]: ...
    def open_blob(self, meta: ObjectMeta) -> BinaryIO: ...
    def head_object(self, bucket: str, key: str, *, follow_symlink: bool = False) -> ObjectMeta: ...
    def put_object_acl(self, bucket: str, key: str, acl: str) -> None: ...
    def delete_object(self, bucket: str, key: str) -> bool: ...
    def put_object_tagging(self, bucket: str, key: str, tags: dict[str, str]) -> ObjectMeta: ...
    def initiate_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str,
        headers: dict[str, str],
        storage_class: str | None = None,
        tags: dict[str, str] | None = None,
        acl: str = "default",
    ) -> Upload: ...
    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: Iterator[bytes],
        *,
        expected_md5: str | None,
        expected_size: int | None,
    ) -> PartMeta: ...
    def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        chosen: list[tuple[int, str]] | None,
        *,
        forbid_overwrite: bool,
    ) -> ObjectMeta: ...
    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None: ...
    def list_parts(
        self, bucket: str, key: str, upload_id: str, *, marker: int, max_parts: int
    ) -> PartPage: ...
    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str,
        delimiter: str,
        key_marker: str,
        upload_id_marker: str,
        max_uploads: int,
    ) -> UploadPage: ...


__all__ = [
    "next_append_position",
    "MAX_PART_NUMBER",
    "MIN_PART_SIZE",
    "BucketInfo",
    "ListPage",
    "ObjectMeta",
    "ObjectStore",
    "PartMeta",
    "PartPage",
    "Storage",
    "Upload",
    "UploadPage",
    "check_bucket_name",
    "check_object_key",
    "check_part_number",
    "crc64",
    "crc64_combine",
]
