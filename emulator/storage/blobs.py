"""Immutable blob files: streamed to a temp file, fsync'd, then renamed into place.

A blob is never rewritten: a new object version is a new blob, so a reader that opened the old one
keeps reading whole bytes while a writer commits. Temp files are named after their writer's
*owner id*; each process holds ``owners/<id>.lock`` for its lifetime, so start-up cleanup removes
only the temp files of writers that are dead, never those of a live process sharing the data dir.
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
from .hashing import Digested, StreamHasher

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
        self.temp_path.unlink(missing_ok=True)


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
        writes; the fsync overlaps the last chunks' hashing.
        """
        path = self.new_temp_path()
        size = 0
        try:
            with open(path, "wb") as f, StreamHasher() as hasher:
                for chunk in chunks:
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise BadRequest("EntityTooLarge")
                    hasher.update(chunk)
                    f.write(chunk)
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
        small bodies (kept inline in the index) written as they are."""
        path = self.new_temp_path()
        try:
            with open(path, "wb", buffering=0) as out:
                for source in sources:
                    if isinstance(source, bytes):
                        out.write(source)
                        continue
                    with open(source, "rb", buffering=0) as src:
                        _copy_file(src, out)
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

    def install(self, temp_path: Path) -> str:
        """Rename a finished temp file to a fresh blob name; the caller commits the name."""
        name = uuid.uuid4().hex
        target = self.path_of(name)
        target.parent.mkdir(exist_ok=True)
        os.replace(temp_path, target)
        return name

    def delete(self, name: str) -> None:
        if name:
            self.path_of(name).unlink(missing_ok=True)

    def all_blob_names(self) -> Iterator[str]:
        for sub in self.blob_dir.iterdir():
            if sub.is_dir():
                for f in sub.iterdir():
                    yield f.name


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
