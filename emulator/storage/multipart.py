"""Multipart uploads: parts are blobs with rows in ``parts``; Complete joins them atomically.

Parts and uploads live in the index like objects do, so uploads in progress survive a restart.
Complete copies the chosen parts into one temp file inside the kernel (``copy_file_range``: no part
is read into memory), then commits the object and drops the upload in one transaction, so a
concurrent Complete or Abort of the same upload id sees ``NoSuchUpload`` and nothing half-done.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator

from ..protocol.errors import BadRequest, NotFound
from . import sidecar
from .blobs import discard_temp
from .catalog import Catalog, check_declared_size, check_received, require_bucket
from .hashing import crc64_combine
from .models import ObjectMeta, PartMeta, PartPage, Upload, UploadPage
from .names import check_object_key

MIN_PART_SIZE = 100 * 1024
MAX_PART_NUMBER = 10000
MAX_PART_SIZE = 5 * 1024**3
#: Where an upload keeps, among its headers, what the object gets at Complete.
UPLOAD_STORAGE_CLASS = "x-oss-storage-class"
UPLOAD_TAGS = "ossemu-tags"
_ACL = "x-oss-object-acl"

_COMPLETE_ATTEMPTS = 8


class _PartsChanged(Exception):
    """A chosen part was replaced while Complete joined the parts: join them again."""


class Multipart:
    """InitiateMultipartUpload … CompleteMultipartUpload over the data dir's :class:`Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = catalog.index
        self.blobs = catalog.blobs

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
    ) -> Upload:
        """A new upload; its content type, class, tags and ACL wait in its headers until
        Complete (``storage_class=None``: the bucket's, as the object will have it)."""
        check_object_key(key)
        storage_class = storage_class or self.catalog.get_bucket(bucket).storage_class
        upload = Upload(
            os.urandom(16).hex().upper(),
            bucket,
            key,
            self.catalog.clock.now(),
            {
                **headers,
                "content-type": content_type,
                UPLOAD_STORAGE_CLASS: storage_class,
                UPLOAD_TAGS: json.dumps(tags or {}),
                **({_ACL: acl} if acl != "default" else {}),
            },
        )
        with self.index.write() as db:
            require_bucket(db, bucket)
            db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?)",
                (upload.upload_id, bucket, key, upload.initiated, json.dumps(upload.headers)),
            )
        return upload

    def get_upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        row = (
            self.index.read()
            .execute(
                "SELECT * FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
                (upload_id, bucket, key),
            )
            .fetchone()
        )
        if row is None:
            self.catalog.get_bucket(bucket)
            raise NotFound("NoSuchUpload", UploadId=upload_id)
        return _upload_from_row(row)

    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: Iterator[bytes],
        *,
        expected_md5: str | None = None,
        expected_size: int | None = None,
    ) -> PartMeta:
        """Store one part; the same number again replaces it."""
        check_part_number(part_number)
        check_declared_size(expected_size, MAX_PART_SIZE)
        upload = self.get_upload(bucket, key, upload_id)
        written = self.blobs.write(chunks, limit=MAX_PART_SIZE)
        try:
            check_received(written, expected_size, expected_md5)
            now = self.catalog.clock.now()
            part = PartMeta(upload_id, part_number, written.size, written.etag, written.crc64, now)
            self.blobs.write_record(written.temp_path, sidecar.part_record(upload, part))
            with self.index.write() as db:
                if (
                    db.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone()
                    is None
                ):
                    raise NotFound("NoSuchUpload", UploadId=upload_id)
                old = db.execute(
                    "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                    (upload_id, part_number),
                ).fetchone()
                name = self.blobs.install(written.temp_path)
                db.execute(
                    "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        upload_id,
                        part_number,
                        name,
                        part.size,
                        part.etag,
                        str(part.crc64),
                        part.last_modified,
                    ),
                )
        finally:
            written.discard()
        if old:
            self.blobs.delete(old["blob"])
        return part

    def list_parts(
        self, bucket: str, key: str, upload_id: str, *, marker: int = 0, max_parts: int = 1000
    ) -> PartPage:
        upload = self.get_upload(bucket, key, upload_id)
        rows = (
            self.index.read()
            .execute(
                "SELECT * FROM parts WHERE upload_id = ? AND part_number > ?"
                " ORDER BY part_number LIMIT ?",
                (upload_id, marker, max_parts + 1),
            )
            .fetchall()
        )
        parts = [_part_from_row(r) for r in rows[:max_parts]]
        truncated = len(rows) > max_parts
        return PartPage(parts, truncated, parts[-1].part_number if parts else 0, upload)

    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadPage:
        """Uploads sorted by key then upload id, folded by delimiter like ListObjects."""
        self.catalog.get_bucket(bucket)
        # OSS: key-marker alone lists keys after it; with upload-id-marker, the marker key's
        # uploads after that id come first.
        rows = self.index.read().execute(
            "SELECT * FROM uploads WHERE bucket = ? AND (key > ? OR (key = ? AND ? != ''"
            " AND upload_id > ?)) ORDER BY key, upload_id",
            (bucket, key_marker, key_marker, upload_id_marker, upload_id_marker),
        )
        # A marker inside a folded prefix: the previous page returned that prefix already.
        cut = key_marker.find(delimiter, len(prefix)) if delimiter else -1
        seen = (
            key_marker[: cut + len(delimiter)]
            if cut >= 0 and key_marker.startswith(prefix)
            else None
        )
        uploads: list[Upload] = []
        prefixes: list[str] = []
        truncated = False
        last_key = last_id = ""
        for row in rows:
            key = row["key"]
            if not key.startswith(prefix) or (seen is not None and key.startswith(seen)):
                continue
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            common = key[: cut + len(delimiter)] if cut >= 0 else None
            if common is not None and prefixes and prefixes[-1] == common:
                continue
            if len(uploads) + len(prefixes) == max_uploads:
                truncated = True
                break
            if common is not None:
                prefixes.append(common)
                last_key, last_id = common, ""
            else:
                uploads.append(_upload_from_row(row))
                last_key, last_id = key, row["upload_id"]
        return UploadPage(
            uploads,
            prefixes,
            truncated,
            last_key if truncated else "",
            last_id if truncated else "",
        )

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; checked inside the transaction, so of an Abort and a
        Complete racing on one upload exactly one succeeds and the other hears NoSuchUpload."""
        self.get_upload(bucket, key, upload_id)
        with self.index.write() as db:
            gone = db.execute(
                "DELETE FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
                (upload_id, bucket, key),
            ).rowcount
            if not gone:
                raise NotFound("NoSuchUpload", UploadId=upload_id)
            blobs = self._drop_upload(db, upload_id)
        for name in blobs:
            self.blobs.delete(name)

    def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        chosen: list[tuple[int, str]] | None,
        *,
        forbid_overwrite: bool = False,
    ) -> ObjectMeta:
        """Join the chosen parts (``None``: all of them, for ``x-oss-complete-all``).

        A part re-uploaded while its bytes are being joined (its old blob deleted mid-copy, or
        replaced before the commit) is not a missing upload: the join starts again from the
        parts as they now are, a bounded number of times.
        """
        for _ in range(_COMPLETE_ATTEMPTS - 1):
            try:
                return self._complete_once(bucket, key, upload_id, chosen, forbid_overwrite)
            except _PartsChanged:
                continue
        try:
            return self._complete_once(bucket, key, upload_id, chosen, forbid_overwrite)
        except _PartsChanged:
            raise BadRequest("InvalidPart") from None

    def _complete_once(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        chosen: list[tuple[int, str]] | None,
        forbid_overwrite: bool,
    ) -> ObjectMeta:
        upload = self.get_upload(bucket, key, upload_id)
        stored = {p.part_number: p for p in self._parts(upload_id)}
        try:
            parts = self._pick_parts(stored, chosen)
        except BadRequest:
            # A concurrent Complete or Abort may have dropped the upload (and so every part)
            # since get(): that caller must hear NoSuchUpload, as on OSS, not InvalidPart.
            self.get_upload(bucket, key, upload_id)
            raise
        try:
            temp = self.blobs.concatenate([p.blob for p in parts])
        except FileNotFoundError:
            self.get_upload(bucket, key, upload_id)  # NoSuchUpload if it is really gone
            raise _PartsChanged from None
        crc = 0
        for p in parts:
            crc = crc64_combine(crc, p.crc64, p.size)
        digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in parts)).hexdigest().upper()
        headers = dict(upload.headers)
        content_type = headers.pop("content-type", "application/octet-stream")
        storage_class = headers.pop(UPLOAD_STORAGE_CLASS, "Standard")
        tags = json.loads(headers.pop(UPLOAD_TAGS, "{}"))
        acl = headers.pop(_ACL, "default")
        meta = ObjectMeta(
            bucket=bucket,
            key=key,
            size=sum(p.size for p in parts),
            etag=f"{digest}-{len(parts)}",
            crc64=crc,
            content_md5="",
            content_type=content_type,
            last_modified=self.catalog.clock.now(),
            object_type="Multipart",
            headers=headers,
            storage_class=storage_class,
            tags=tags,
            acl=acl,
        )
        dropped: list[str] = []

        def still_same(db: sqlite3.Connection) -> None:
            now = {
                r["part_number"]: r["blob"]
                for r in db.execute(
                    "SELECT part_number, blob FROM parts WHERE upload_id = ?", (upload_id,)
                )
            }
            if (
                db.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone()
                is None
            ):
                raise NotFound("NoSuchUpload", UploadId=upload_id)
            if any(now.get(p.part_number) != p.blob for p in parts):
                raise _PartsChanged
            dropped.extend(self._drop_upload(db, upload_id))

        try:
            result = self.catalog.commit_object(
                meta, temp, forbid_overwrite=forbid_overwrite, before=still_same
            )
        finally:
            discard_temp(temp)
        for name in dropped:
            self.blobs.delete(name)
        return result

    # The short names the upload tests have always used.
    initiate = initiate_multipart_upload
    complete = complete_multipart_upload
    abort = abort_multipart_upload
    list_uploads = list_multipart_uploads

    def _pick_parts(
        self, stored: dict[int, PartMeta], chosen: list[tuple[int, str]] | None
    ) -> list[PartMeta]:
        if chosen is None:
            parts = [stored[n] for n in sorted(stored)]
        else:
            numbers = [n for n, _ in chosen]
            if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
                raise BadRequest("InvalidPartOrder")
            parts = []
            for number, etag in chosen:
                part = stored.get(number)
                if part is None or part.etag != etag.strip('"').upper():
                    raise BadRequest("InvalidPart", PartNumber=str(number), ETag=etag)
                parts.append(part)
        if not parts:
            raise BadRequest("InvalidPart")
        for part in parts[:-1]:
            if part.size < MIN_PART_SIZE:
                raise BadRequest(
                    "EntityTooSmall",
                    PartNumber=str(part.part_number),
                    MinSizeAllowed=str(MIN_PART_SIZE),
                    ProposedSize=str(part.size),
                )
        return parts

    def _parts(self, upload_id: str) -> list[PartMeta]:
        rows = self.index.read().execute(
            "SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number", (upload_id,)
        )
        return [_part_from_row(r) for r in rows]

    @staticmethod
    def _drop_upload(db: sqlite3.Connection, upload_id: str) -> list[str]:
        blobs = [
            r[0]
            for r in db.execute(
                "DELETE FROM parts WHERE upload_id = ? RETURNING blob", (upload_id,)
            )
        ]
        db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        return blobs


def check_part_number(number: int) -> int:
    if not 1 <= number <= MAX_PART_NUMBER:
        raise BadRequest(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive.",
            ArgumentName="partNumber",
            ArgumentValue=str(number),
        )
    return number


def _upload_from_row(row: sqlite3.Row) -> Upload:
    return Upload(
        row["upload_id"], row["bucket"], row["key"], row["initiated"], json.loads(row["headers"])
    )


def _part_from_row(row: sqlite3.Row) -> PartMeta:
    return PartMeta(
        row["upload_id"],
        row["part_number"],
        row["size"],
        row["etag"],
        int(row["crc64"]),
        row["last_modified"],
        row["blob"],
    )
