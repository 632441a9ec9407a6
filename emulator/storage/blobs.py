"""Immutable blob files: streamed to a temp file, fsync'd, then renamed into place.

A blob is never rewritten: a new object version is a new blob, so a reader that opened the old one
keeps reading whole bytes while a writer commits. Temp files are named after their writer's
*owner id*; each process holds ``owners/<id>.lock`` for its lifetime, so start-up cleanup removes
only the temp files of writers that are dead, never those of a live process sharing the data dir.

Each blob has its record beside it (:mod:`.sidecar`). A rename into ``blobs/`` is made durable by
fsyncing the directory before the commit that names the blob: without it a power cut could keep
the committed row and lose the file's name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from filelock import FileLock, Timeout

from ..protocol.errors import BadRequest
from . import sidecar
from .hashing import Digested, StreamHasher
from .space import reported_as_full
from .writeback import Writeback

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class WrittenBlob(Digested):
    """A body streamed to a temp file: committed by renaming ``source`` into ``blobs/``."""

    temp_path: Path
    size: int
    md5: bytes
    crc64: int

    @property
    def source(self) -> Path:
        return self.temp_path

    def discard(self) -> None:
        """Remove the temp file once it was renamed away (a no-op then) or refused."""
        discard_temp(self.temp_path)


def discard_temp(path: Path) -> None:
    """Remove a temp file and its record, if they are still there."""
    path.unlink(missing_ok=True)
    sidecar.path_for(path).unlink(missing_ok=True)


def fsync_dir(path: Path) -> None:
    """Make the names in ``path`` (renames, creations, unlinks) durable; no-op on Windows."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Owns ``tmp/``, ``blobs/`` and ``owners/`` under the data dir."""

    def __init__(self, root: Path) -> None:
        self.tmp_dir = root / "tmp"
        self.blob_dir = root / "blobs"
        self._blob_root = str(self.blob_dir)
        self.owner_dir = root / "owners"
        for d in (self.tmp_dir, self.blob_dir, self.owner_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._owner_lock = FileLock(str(self.owner_dir / f"{self.owner}.lock"))
        self._owner_lock.acquire()
        self.remove_dead_writers_temp_files()

    def close(self) -> None:
        self._owner_lock.release()
        (self.owner_dir / f"{self.owner}.lock").unlink(missing_ok=True)

    def remove_dead_writers_temp_files(self) -> int:
        """Delete temp files whose writer process is gone; return how many."""
        removed = 0
        for lock_path in self.owner_dir.glob("*.lock"):
            owner = lock_path.stem
            if owner == self.owner:
                continue
            lock = FileLock(str(lock_path), timeout=0)
            try:
                lock.acquire()
            except Timeout:
                continue  # a live process holds it
            try:
                for tmp in self.tmp_dir.glob(f"{owner}.*"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
                lock_path.unlink(missing_ok=True)
            finally:
                lock.release()
        return removed

    def new_temp_path(self) -> Path:
        return self.tmp_dir / f"{self.owner}.{uuid.uuid4().hex}"

    def write(self, chunks: Iterator[bytes], *, limit: int | None = None) -> WrittenBlob:
        """Stream ``chunks`` to a temp file, hashing as it goes; fsync before returning.

        A big body is hashed on a helper thread (see :mod:`.hashing`) while this thread reads and
        writes, and the disk is started on its bytes as they come (:mod:`.writeback`); the
        fsync overlaps the last chunks' hashing.
        """
        path = self.new_temp_path()
        size = 0
        try:
            with reported_as_full(), open(path, "wb") as f, StreamHasher() as hasher:
                writeback = Writeback(f.fileno())
                for chunk in chunks:
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise BadRequest("EntityTooLarge")
                    hasher.update(chunk)
                    f.write(chunk)
                    writeback.wrote(size)
                f.flush()
                os.fsync(f.fileno())
                md5, crc = hasher.finish()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return WrittenBlob(path, size, md5, crc)

    def concatenate(self, blob_names: list[str]) -> Path:
        """Join blobs into one temp file inside the kernel (no bytes through Python memory)."""
        return self.join([self.path_of(name) for name in blob_names])

    def join(self, sources: list[Path | bytes]) -> Path:
        """One fsynced temp file holding ``sources`` in turn: files copied inside the kernel,
        small bodies (kept inline in the index) written as they are, the disk started on each
        as it lands."""
        path = self.new_temp_path()
        try:
            with reported_as_full(), open(path, "wb", buffering=0) as out:
                writeback = Writeback(out.fileno())
                for source in sources:
                    if isinstance(source, bytes):
                        out.write(source)
                    else:
                        with open(source, "rb", buffering=0) as src:
                            _copy_file(src, out)
                    writeback.wrote(out.tell())
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def path_of(self, name: str) -> Path:
        return Path(self.open_path(name))

    def open_path(self, name: str) -> str:
        """``path_of`` as a string: what a GET opens, without pathlib's cost per request."""
        return os.path.join(self._blob_root, name[:2], name)

    def write_record(self, temp_path: Path, record: dict[str, object]) -> None:
        """The sidecar record of a finished temp file, written before its commit."""
        with reported_as_full():
            sidecar.write(temp_path, record)

    def install(self, temp_path: Path) -> str:
        """Rename a finished temp file (record first) to a fresh blob name, durably; the caller
        commits the name."""
        name = uuid.uuid4().hex
        target = self.path_of(name)
        if not target.parent.is_dir():
            target.parent.mkdir(exist_ok=True)
            fsync_dir(self.blob_dir)
        record = sidecar.path_for(temp_path)
        if record.exists():
            os.replace(record, sidecar.path_for(target))
        os.replace(temp_path, target)
        fsync_dir(target.parent)
        return name

    def delete(self, name: str) -> None:
        """Unlink a blob, then its record (a record without its blob is harmless garbage)."""
        if name:
            path = self.path_of(name)
            path.unlink(missing_ok=True)
            sidecar.path_for(path).unlink(missing_ok=True)

    def all_blob_names(self) -> Iterator[str]:
        for sub in self.blob_dir.iterdir():
            if sub.is_dir():
                for f in sub.iterdir():
                    if not f.name.endswith(sidecar.SUFFIX):
                        yield f.name

    def stray_records(self) -> Iterator[Path]:
        """Records whose blob is gone (a crash between the two unlinks of ``delete``)."""
        for record in self.blob_dir.glob(f"*/*{sidecar.SUFFIX}"):
            if not record.with_name(record.name[: -len(sidecar.SUFFIX)]).exists():
                yield record


def _copy_file(src: BinaryIO, dst: BinaryIO) -> None:
    size = os.fstat(src.fileno()).st_size
    offset = 0
    try:
        while offset < size:
            n = os.copy_file_range(src.fileno(), dst.fileno(), size - offset)
            if n == 0:
                break
            offset += n
    except OSError:  # filesystems without copy_file_range: copy through a bounded buffer
        src.seek(offset)
        while chunk := src.read(CHUNK):
            dst.write(chunk)
