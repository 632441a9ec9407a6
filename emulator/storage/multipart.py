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
from .catalog import Catalog, check_declared_size, check_received, require_bucket
from .hashing import crc64_combine
from .models import ObjectMeta, PartMeta, PartPage, Upload, UploadPage
from .names import check_object_key

MIN_PART_SIZE = 100 * 1024
MAX_PART_NUMBER = 10000
MAX_PART_SIZE = 5 * 1024**3
_ACL = "x-oss-object-acl"  # where an upload keeps the ACL its object gets at Complete


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
        acl: str = "default",
    ) -> Upload:
        """A new upload; its content type and ACL wait in ``headers`` until Complete."""
        check_object_key(key)
        kept = {**headers, "content-type": content_type}
        if acl != "default":
            kept[_ACL] = acl
        upload = Upload(os.urandom(16).hex().upper(), bucket, key, self.catalog.clock.now(), kept)
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
        self.get_upload(bucket, key, upload_id)
        written = self.blobs.write(chunks, limit=MAX_PART_SIZE)
        try:
            check_received(written, expected_size, expected_md5)
            now = self.catalog.clock.now()
            part = PartMeta(upload_id, part_number, written.size, written.etag, written.crc64, now)
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
        self.get_upload(bucket, key, upload_id)
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
        return PartPage(parts, truncated, parts[-1].part_number if parts else 0)

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
        rows = self.index.read().execute(
            "SELECT * FROM uploads WHERE bucket = ? AND (key > ? OR (key = ? AND upload_id > ?))"
            " ORDER BY key, upload_id",
            (bucket, key_marker, key_marker, upload_id_marker),
        )
        uploads: list[Upload] = []
        prefixes: list[str] = []
        truncated = False
        last_key = last_id = ""
        for row in rows:
            key = row["key"]
            if not key.startswith(prefix):
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
        self.get_upload(bucket, key, upload_id)
        with self.index.write() as db:
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
        """Join the chosen parts (``None``: all of them, for ``x-oss-complete-all``)."""
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
            raise NotFound("NoSuchUpload", UploadId=upload_id) from None
        crc = 0
        for p in parts:
            crc = crc64_combine(crc, p.crc64, p.size)
        digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in parts)).hexdigest().upper()
        headers = dict(upload.headers)
        content_type = headers.pop("content-type", "application/octet-stream")
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
                raise BadRequest("InvalidPart")
            dropped.extend(self._drop_upload(db, upload_id))

        try:
            result = self.catalog.commit_object(
                meta, temp, forbid_overwrite=forbid_overwrite, before=still_same
            )
        finally:
            temp.unlink(missing_ok=True)
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
