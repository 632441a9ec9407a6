"""How a file splits into parts, and the checkpoint recording which of them are uploaded.

Schema (version 1), one JSON document per (local file, ``oss://bucket/key``)::

    {"magic": "ossemu-resumable-upload", "version": 1,
     "checksum": "<sha256 hex of the canonical JSON of data>",
     "data": {"bucket": "b", "key": "k", "file": "/abs/path", "upload_id": "…",
              "part_size": 8388608,
              "fingerprint": {"size": 123, "mtime_ns": 1700000000000000000, "inode": 42},
              "parts": [[1, 8388608, "ETAG-HEX", 1234567890123], …]}}   # number, size, etag, crc64

Writes are atomic (temp file in the same directory + ``os.replace``), so a crash leaves the old
or the new checkpoint, never half of one; the checksum catches anything else (a torn write
after power loss, a hand edit), and such a checkpoint is treated as absent. No ``fsync``: the
checkpoint is rewritten at most once a second while parts land, and on resume ListParts
supplies whatever parts it lacks, so losing its last entries re-sends nothing.

Default location: ``$XDG_CACHE_HOME/ossemu/checkpoints`` (``~/.cache/ossemu/checkpoints``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock

from .crc import combine
from .exceptions import ClientError
from .models import PartResult
from .multipart import MAX_PARTS

MAGIC = "ossemu-resumable-upload"
VERSION = 1


DEFAULT_PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 100 * 1024
MAX_PART_SIZE = 5 * 1024**3


def part_size_for(file_size: int, requested: int | None = None) -> int:
    """``max(requested or 8 MiB, ceil(size / 10000), 100 KiB)``: at most 10,000 parts."""
    if requested is not None and (not isinstance(requested, int) or requested <= 0):
        raise ClientError(f"part_size must be a positive number of bytes, not {requested!r}.")
    size = max(requested or DEFAULT_PART_SIZE, -(-file_size // MAX_PARTS), MIN_PART_SIZE)
    if size > MAX_PART_SIZE:
        raise ClientError(
            f"A part may hold at most {MAX_PART_SIZE} bytes; {file_size} bytes in "
            f"{MAX_PARTS} parts would need {size}."
        )
    return size


def default_checkpoint_dir() -> Path:
    """``$XDG_CACHE_HOME/ossemu/checkpoints``, else ``~/.cache/ossemu/checkpoints``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(cache) / "ossemu" / "checkpoints"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def checkpoint_path(
    directory: str | os.PathLike[str] | None, file_path: str, bucket: str, key: str
) -> Path:
    """Where the checkpoint of uploading ``file_path`` to ``oss://bucket/key`` lives.

    ``directory`` is a directory with or without a trailing slash (never its parent).
    """
    base = Path(directory).expanduser() if directory is not None else default_checkpoint_dir()
    return base / f"{_digest(f'oss://{bucket}/{key}')}-{_digest(file_path)}.json"


@dataclass(frozen=True)
class Fingerprint:
    """What says "same file, unchanged" without reading it: size, mtime (ns) and inode."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, stat: os.stat_result) -> Fingerprint:
        """From ``os.stat``/``os.fstat``."""
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ino)


@dataclass
class Checkpoint:
    """One multipart upload of one file; ``parts`` holds the parts known to be uploaded."""

    bucket: str
    key: str
    file: str
    upload_id: str
    part_size: int
    fingerprint: Fingerprint
    parts: dict[int, PartResult] = field(default_factory=dict)

    @property
    def part_count(self) -> int:
        """Parts the file splits into (at least one)."""
        return max(1, -(-self.fingerprint.size // self.part_size))

    def part_range(self, number: int) -> tuple[int, int]:
        """``(offset, length)`` of part ``number`` (1-based) in the file."""
        start = (number - 1) * self.part_size
        return start, max(0, min(self.part_size, self.fingerprint.size - start))

    def missing(self) -> list[int]:
        """Part numbers still to upload, ascending."""
        return [n for n in range(1, self.part_count + 1) if n not in self.parts]

    def done_bytes(self) -> int:
        """Bytes of the file already uploaded."""
        return sum(p.size or 0 for p in self.parts.values())

    def combined_crc(self) -> int | None:
        """CRC-64 of the whole file from the parts' CRCs; None unless every part has one."""
        crc = 0
        for number in range(1, self.part_count + 1):
            part = self.parts.get(number)
            if part is None or part.crc64 is None or part.size is None:
                return None
            crc = combine(crc, part.crc64, part.size)
        return crc

    def to_json(self) -> str:
        """The versioned, self-checksummed document."""
        data = {
            "bucket": self.bucket,
            "key": self.key,
            "file": self.file,
            "upload_id": self.upload_id,
            "part_size": self.part_size,
            "fingerprint": {
                "size": self.fingerprint.size,
                "mtime_ns": self.fingerprint.mtime_ns,
                "inode": self.fingerprint.inode,
            },
            "parts": [[p.number, p.size, p.etag, p.crc64] for _, p in sorted(self.parts.items())],
        }
        return json.dumps(
            {"magic": MAGIC, "version": VERSION, "checksum": _checksum(data), "data": data},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Checkpoint:
        """Parse a checkpoint; ``ValueError`` (saying why) when it cannot be trusted."""
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc})") from None
        if not isinstance(document, dict) or document.get("magic") != MAGIC:
            raise ValueError("not an ossemu checkpoint")
        if document.get("version") != VERSION:
            raise ValueError(f"unsupported checkpoint version {document.get('version')!r}")
        data = document.get("data")
        if not isinstance(data, dict) or document.get("checksum") != _checksum(data):
            raise ValueError("checksum mismatch")
        try:
            return cls._from_data(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed checkpoint data ({exc!r})") from None

    @classmethod
    def _from_data(cls, data: dict[str, Any]) -> Checkpoint:
        fp = data["fingerprint"]
        fingerprint = Fingerprint(int(fp["size"]), int(fp["mtime_ns"]), int(fp["inode"]))
        parts = {}
        for number, size, etag, crc in data["parts"]:
            parts[int(number)] = PartResult(
                int(number), str(etag), int(size), None if crc is None else int(crc)
            )
        checkpoint = cls(
            str(data["bucket"]),
            str(data["key"]),
            str(data["file"]),
            str(data["upload_id"]),
            int(data["part_size"]),
            fingerprint,
            parts,
        )
        if checkpoint.part_size <= 0 or not checkpoint.upload_id:
            raise ValueError("part_size and upload_id must be set")
        return checkpoint

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old or the new document, never a mix."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(self.to_json())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        """The checkpoint at ``path``; None when there is none, ``ValueError`` when broken."""
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None
        return cls.from_json(text)


def _checksum(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` so no other process (or thread) drives the same upload.

    Refuses at once with ``ClientError`` instead of waiting: the other holder may run for
    hours. The lock file is removed, while still held, once the checkpoint is gone.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = f"{path}.lock"
    lock = filelock.FileLock(lock_path, blocking=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ClientError(
            f"Another upload is already using the checkpoint {path} (locked by {lock_path}); "
            "wait for it to finish, or stop it first."
        ) from None
    try:
        yield
    finally:
        if not path.exists():
            # filelock re-checks st_nlink after locking, so a waiter on the old inode retries.
            with contextlib.suppress(OSError):
                os.unlink(lock_path)
        lock.release()
