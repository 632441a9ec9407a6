"""What start-up may delete, and when it must refuse to start.

The index is the only list of what exists, so "a blob no row names is garbage" holds only for an
index that has been keeping that list. An index that is new, empty or was replaced names nothing:
trusting it would delete every object. So the index carries a mark, set when it is created in a
data dir without blobs (or adopted from a version without the mark while it has rows); without
the mark and with blob files present, start-up refuses with one line that says how to rebuild it
(``ossemu fsck --rebuild-index``). An index SQLite cannot read is refused the same way.

With a marked index, an unreferenced blob that has its record (:mod:`.sidecar`) is a write that
never committed or a version already replaced, and is deleted. One without a record was written
by a version before records existed, and cannot be accounted for: it is moved to ``lost+found/``
in the data dir, never deleted.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from . import sidecar
from .blobs import BlobStore, fsync_dir

MARK_SCHEMA = "CREATE TABLE IF NOT EXISTS ossemu_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
LOST_AND_FOUND = "lost+found"

Writer = Callable[[], AbstractContextManager[sqlite3.Connection]]


#: The newest thing this version writes that an older one would misread, as a number the
#: index keeps (``ossemu_meta`` row 'format'); a version refuses an index of a newer format.
#: 1: a small body replaced in place is named ``inline:<id>.<gen>`` (older versions answered 500
#: for such objects). Versions before the mark cannot refuse anything: this guards from here on.
FORMAT = 1


class DataDirError(Exception):
    """The data dir cannot be served as it is; the message is one line that says what to do."""


def rebuild_hint(root: Path) -> str:
    return f"ossemu fsck --rebuild-index --data-dir {root}"


def unreadable_index(path: Path, error: BaseException) -> DataDirError:
    return DataDirError(
        f"{path} is not a usable SQLite index ({error}); refusing to start, nothing was changed."
        f" Rebuild it from the blob files (the bad file is moved aside): "
        f"{rebuild_hint(path.parent)}"
    )


def format_of(db: sqlite3.Connection) -> int:
    """The format an index records (0: written before the mark)."""
    row = db.execute("SELECT value FROM ossemu_meta WHERE name = 'format'").fetchone()
    return int(row[0]) if row and str(row[0]).isdigit() else 0


def newer_index(path: Path, found: int) -> DataDirError:
    return DataDirError(
        f"{path} was written by a newer ossemu (data format {found}; this one reads up to"
        f" {FORMAT}); refusing to start, nothing was changed. Use that version of ossemu,"
        " or another --data-dir"
    )


def check_format(db: sqlite3.Connection, path: Path) -> None:
    """Refuse (DataDirError) an index a newer ossemu wrote; stamp an older one with ours."""
    found = format_of(db)
    if found > FORMAT:
        raise newer_index(path, found)
    if found < FORMAT:
        db.execute("INSERT OR REPLACE INTO ossemu_meta VALUES ('format', ?)", (str(FORMAT),))


def is_marked(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM ossemu_meta WHERE name = 'established'").fetchone() is not None


def has_rows(db: sqlite3.Connection) -> bool:
    return any(
        db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
        for table in ("buckets", "objects", "uploads")
    )


def mark(db: sqlite3.Connection, now: float) -> None:
    db.execute("INSERT OR IGNORE INTO ossemu_meta VALUES ('established', ?)", (repr(now),))


def ensure_established(write: Writer, blobs: BlobStore, root: Path, now: float) -> None:
    """Mark a new index, adopt an unmarked one that has rows, or refuse (DataDirError)."""
    with write() as db:
        if is_marked(db):
            return
        if not has_rows(db):
            count = sum(1 for _ in blobs.all_blob_names())
            if count:
                raise DataDirError(
                    f"{root / 'index.sqlite3'} is missing or empty, but {blobs.blob_dir} holds"
                    f" {count} blob file(s); refusing to start, nothing was deleted. Rebuild the"
                    f" index from them: {rebuild_hint(root)}"
                )
        mark(db, now)


def collect_garbage(write: Writer, blobs: BlobStore, root: Path) -> tuple[int, int]:
    """Delete unreferenced blobs that have a record, move those without one to lost+found/.

    Runs under the writer lock: a live writer renames into ``blobs/`` only inside its own
    transaction, so no blob seen here is in the middle of a commit. Returns (deleted, moved).
    """
    deleted = moved = 0
    with write() as db:
        if not is_marked(db):  # ensure_established refused or marked it; never guess
            return 0, 0
        live = {
            r[0] for r in db.execute("SELECT blob FROM objects UNION ALL SELECT blob FROM parts")
        }
        for name in [n for n in blobs.all_blob_names() if n not in live]:
            if sidecar.read(blobs.path_of(name)) is None:
                moved += move_to_lost_and_found(blobs, root, name) is not None
            else:
                blobs.delete(name)
                deleted += 1
        for record in list(blobs.stray_records()):
            record.unlink(missing_ok=True)
    return deleted, moved


def move_to_lost_and_found(blobs: BlobStore, root: Path, name: str) -> Path | None:
    """Move one blob file (and its record, if any) out of ``blobs/``, keeping its bytes; None
    if it is gone already.

    The writer lock does not cover a blob's unlink: a live process unlinks the blob its commit
    replaced after COMMIT, so a name listed under the lock may vanish before it is moved (a
    worker that started then failed to boot on it). Such a blob was no orphan: it is skipped.
    """
    target_dir = root / LOST_AND_FOUND
    target_dir.mkdir(exist_ok=True)
    source = blobs.path_of(name)
    target = target_dir / name
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return None
    with contextlib.suppress(FileNotFoundError):  # no record, or its owner unlinked it too
        os.replace(sidecar.path_for(source), sidecar.path_for(target))
    fsync_dir(target_dir)
    return target
