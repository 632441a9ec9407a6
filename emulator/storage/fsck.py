"""Check a data dir against itself (scrub), and rebuild a lost index from the blobs' records.

:func:`check` reads every stored body, inline ones included, and compares it with its row: the
file exists, has the row's size, its MD5 (for objects with a ``Content-MD5`` and for parts) and
its CRC-64 match. It also lists blob files no row names (orphans) and inline bodies no object
names. It changes nothing unless asked to ``repair``, which only moves orphan blob files to
``lost+found/`` (never deletes). It runs beside a live server: the set of names is taken under
the writers' lock, so a blob in the middle of its commit is never called an orphan.

:func:`rebuild_index` gives a data dir whose index is missing, empty or unreadable a new index
made from the records beside the blobs (:mod:`.sidecar`): per key, the newest version; per
upload, its parts. It moves an unreadable index aside first and never touches a healthy one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import inline, sidecar, startup
from .blobs import BlobStore
from .hashing import crc64
from .index import Index

try:
    import fcntl
except ImportError:  # Windows: no cross-process lock; orphans may include in-flight commits
    fcntl = None  # type: ignore[assignment]

CHUNK = 1024 * 1024
INDEX = "index.sqlite3"


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``kind`` is index, missing, size, md5, crc64, orphan or orphan-inline."""

    kind: str
    detail: str
    bucket: str = ""
    key: str = ""
    blob: str = ""
    upload_id: str = ""
    part_number: int = 0


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    objects: int = 0
    inline_objects: int = 0
    parts: int = 0
    blob_files: int = 0
    bytes_read: int = 0
    moved_to_lost_and_found: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


@dataclass
class Rebuild:
    """What ``rebuild_index`` did; ``done`` is False when the index was healthy already."""

    done: bool
    detail: str
    moved_aside: str = ""
    objects: int = 0
    buckets: int = 0
    uploads: int = 0
    parts: int = 0
    blobs_without_record: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def index_state(root: Path) -> tuple[str, str]:
    """("healthy" | "missing" | "empty" | "unreadable", why)."""
    path = root / INDEX
    if not path.exists() or path.stat().st_size == 0:
        return "missing", f"{path} is missing or empty"
    try:
        with _read_only(path) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                return "unreadable", f"{path} is damaged: {verdict}"
            marked = startup.is_marked(db) if _has_mark_table(db) else False
            if not marked and not startup.has_rows(db):
                return "empty", f"{path} names no bucket, object or upload"
    except sqlite3.DatabaseError as e:
        return "unreadable", f"{path} is not a usable SQLite index ({e})"
    return "healthy", f"{path} is healthy"


def check(root: Path, *, repair: bool = False) -> Report:
    """Scrub every body against its row, and list orphans (moved to lost+found/ on ``repair``)."""
    started = time.monotonic()
    report = Report()
    state, why = index_state(root)
    blob_dir = root / "blobs"
    if state in ("missing", "unreadable"):
        report.problems.append(Problem("index", f"{why}; rebuild: {startup.rebuild_hint(root)}"))
        report.blob_files = sum(1 for _ in _blob_names(blob_dir))
        report.seconds = time.monotonic() - started
        return report
    with _read_only(root / INDEX) as db:
        referenced = _scrub(db, blob_dir, report)
        with _writers_paused(root):
            live = _live_names(db)
            orphans = [n for n in _blob_names(blob_dir) if n not in live]
            if repair and orphans and state == "healthy":  # an empty index: rebuild instead
                store = BlobStore(root)
                try:
                    for name in orphans:
                        startup.move_to_lost_and_found(store, root, name)
                        report.moved_to_lost_and_found.append(name)
                finally:
                    store.close()
        report.blob_files = sum(1 for n in referenced if not inline.is_inline(n)) + len(orphans)
        for name in orphans:
            record = sidecar.read(_path_of(blob_dir, name)) or {}
            report.problems.append(
                Problem(
                    "orphan",
                    "a blob file no row names"
                    + (" (moved to lost+found/)" if name in report.moved_to_lost_and_found else ""),
                    bucket=str(record.get("bucket", "")),
                    key=str(record.get("key", "")),
                    blob=name,
                )
            )
        for (row_id,) in db.execute(
            "SELECT 'inline:' || id FROM inline_blobs WHERE 'inline:' || id NOT IN"
            " (SELECT blob FROM objects)"
        ):
            report.problems.append(
                Problem("orphan-inline", "an inline body no object names", blob=row_id)
            )
    if state == "empty" and report.blob_files:
        report.problems.append(
            Problem("index", f"{why} but blobs exist; rebuild: {startup.rebuild_hint(root)}")
        )
    report.seconds = time.monotonic() - started
    return report


def rebuild_index(root: Path, *, region: str = "cn-hangzhou") -> Rebuild:
    """A new index from the blobs' records, when the index is missing, empty or unreadable."""
    state, why = index_state(root)
    if state == "healthy":
        return Rebuild(False, f"{why}: nothing to rebuild (run `ossemu fsck` to check it)")
    moved = ""
    if state == "unreadable":
        moved = _move_aside(root / INDEX)
    index = Index(root / INDEX)
    blobs = BlobStore(root)
    try:
        with index.write() as db:
            result = _adopt_records(db, blobs, region)
            startup.mark(db, time.time())
    finally:
        index.close()
        blobs.close()
    result.moved_aside = moved
    return result


def _adopt_records(db: sqlite3.Connection, blobs: BlobStore, region: str) -> Rebuild:
    newest: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    parts: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
    without = 0
    for name in blobs.all_blob_names():
        record = sidecar.read(blobs.path_of(name))
        if record is None:
            without += 1
        elif record["kind"] == "object":
            slot = (record["bucket"], record["key"])
            if slot not in newest or newest[slot][1]["last_modified"] < record["last_modified"]:
                newest[slot] = (name, record)
        else:
            slot = (record["upload_id"], record["part_number"])
            if slot not in parts or parts[slot][1]["last_modified"] < record["last_modified"]:
                parts[slot] = (name, record)
    created: dict[str, float] = {}
    for _name, r in [*newest.values(), *parts.values()]:
        stamp = r.get("initiated", r["last_modified"])
        created[r["bucket"]] = min(created.get(r["bucket"], stamp), stamp)
    for bucket, stamp in created.items():
        db.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?, ?)", (bucket, stamp, region))
    for name, r in newest.values():
        db.execute(
            "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                r["bucket"],
                r["key"],
                name,
                r["size"],
                r["etag"],
                r["crc64"],
                r["content_md5"],
                r["content_type"],
                r["object_type"],
                r["last_modified"],
                _json(r["headers"]),
            ),
        )
    uploads = set()
    for (upload_id, number), (name, r) in parts.items():
        if upload_id not in uploads:
            uploads.add(upload_id)
            db.execute(
                "INSERT OR IGNORE INTO uploads VALUES (?, ?, ?, ?, ?)",
                (upload_id, r["bucket"], r["key"], r["initiated"], _json(r["upload_headers"])),
            )
        db.execute(
            "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
            (upload_id, number, name, r["size"], r["etag"], r["crc64"], r["last_modified"]),
        )
    return Rebuild(
        True,
        "rebuilt from the blobs' records; bodies of up to 64 KiB lived inside the lost index"
        " and empty buckets had no file: those cannot come back",
        objects=len(newest),
        buckets=len(created),
        uploads=len(uploads),
        parts=len(parts),
        blobs_without_record=without,
    )


def _scrub(db: sqlite3.Connection, blob_dir: Path, report: Report) -> set[str]:
    referenced: set[str] = set()
    rows = db.execute(
        "SELECT 'object' AS kind, bucket, key, blob, size, etag, crc64, content_md5,"
        " '' AS upload_id, 0 AS part_number FROM objects"
        " UNION ALL SELECT 'part', u.bucket, u.key, p.blob, p.size, p.etag, p.crc64, '',"
        " p.upload_id, p.part_number FROM parts p LEFT JOIN uploads u USING (upload_id)"
    ).fetchall()
    for row in rows:
        referenced.add(row["blob"])
        where = {
            "bucket": row["bucket"] or "",
            "key": row["key"] or "",
            "blob": row["blob"],
            "upload_id": row["upload_id"],
            "part_number": row["part_number"],
        }
        if row["kind"] == "object":
            report.objects += 1
            report.inline_objects += inline.is_inline(row["blob"])
        else:
            report.parts += 1
        md5_b64, want_md5 = "", ""
        if row["kind"] == "part":
            want_md5 = row["etag"].lower()
        elif row["content_md5"]:
            md5_b64 = row["content_md5"]
        got = _digest(db, blob_dir, row["blob"])
        if got is None:
            report.problems.append(Problem("missing", "its stored bytes are gone", **where))
            continue
        size, md5, crc = got
        report.bytes_read += size
        if size != row["size"]:
            report.problems.append(
                Problem("size", f"{size} bytes stored, {row['size']} expected", **where)
            )
            continue
        if (want_md5 and md5.hex() != want_md5) or (
            md5_b64 and base64.b64encode(md5).decode() != md5_b64
        ):
            report.problems.append(Problem("md5", "the bytes no longer match their MD5", **where))
        elif str(crc) != row["crc64"]:
            report.problems.append(
                Problem("crc64", "the bytes no longer match their CRC-64", **where)
            )
    return referenced


def _digest(db: sqlite3.Connection, blob_dir: Path, name: str) -> tuple[int, bytes, int] | None:
    if inline.is_inline(name):
        data = inline.read(db, name)
        return None if data is None else (len(data), hashlib.md5(data).digest(), crc64(data, 0))
    md5, crc, size = hashlib.md5(), 0, 0
    try:
        with open(_path_of(blob_dir, name), "rb") as f:
            while chunk := f.read(CHUNK):
                md5.update(chunk)
                crc = crc64(chunk, crc)
                size += len(chunk)
    except FileNotFoundError:
        return None
    return size, md5.digest(), crc


def _live_names(db: sqlite3.Connection) -> set[str]:
    db.execute("BEGIN")
    try:
        return {
            r[0] for r in db.execute("SELECT blob FROM objects UNION ALL SELECT blob FROM parts")
        }
    finally:
        db.execute("COMMIT")


def _blob_names(blob_dir: Path) -> Iterator[str]:
    if not blob_dir.is_dir():
        return
    for sub in blob_dir.iterdir():
        if sub.is_dir():
            for f in sub.iterdir():
                if not f.name.endswith(sidecar.SUFFIX):
                    yield f.name


def _path_of(blob_dir: Path, name: str) -> Path:
    return blob_dir / name[:2] / name


def _has_mark_table(db: sqlite3.Connection) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE name = 'ossemu_meta'").fetchone() is not None
    )


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    try:
        yield db
    finally:
        db.close()


@contextlib.contextmanager
def _writers_paused(root: Path) -> Iterator[None]:
    """Hold the lock every writer takes around its rename and commit (``index.py``)."""
    if fcntl is None:
        yield
        return
    fd = os.open(root / f"{INDEX}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _move_aside(path: Path) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{target}{suffix}"))
    return str(target)


def _json(value: Any) -> str:
    return json.dumps(value)
