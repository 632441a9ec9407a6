"""Fault rules in one SQLite file on the data dir, shared by every process serving it.

``take`` runs on every request, so it reads SQLite only when the rules changed. Every commit is
followed by 8 fresh random bytes in ``faults.sqlite3-version`` (``version_file.py``); a process
keeps the rules it last read together with the bytes it read just before them. A commit that
read missed rewrote the bytes after it, so unchanged bytes mean current rules: a read of a shared
mapping of that file, with no system call (which would give the GIL away in a busy worker),
instead of ``PRAGMA data_version``'s read transaction (3 syscalls, ~4.5 us). A deleted,
replaced or corrupt file is followed or recreated (empty); until that works, requests see no
rules rather than a 500.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from filelock import FileLock

from ..version_file import VersionFile
from .rule import Fault

log = logging.getLogger("ossemu.faults")
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule TEXT NOT NULL,
    times INTEGER NOT NULL,
    hits INTEGER NOT NULL
);
"""
_SELECT = "SELECT id, rule, times, hits FROM faults ORDER BY id"
_RULE_FIELDS = Fault.__dataclass_fields__.keys() - {"id", "times", "hits"}
_RECHECK_SECONDS = 1.0  # how soon a process notices that the files were deleted or replaced


class _Cache(NamedTuple):
    version: bytes | None
    rules: list[Fault]


class SharedRules:
    """The rules in one SQLite file (WAL), plus the version file that says when they changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._guard = threading.Lock()  # the open files and the connection pool
        # This process's writers queue here rather than in SQLite's busy handler, which polls
        # with sleeps of up to 100 ms.
        self._writer = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._all: set[sqlite3.Connection] = set()
        self._mark = VersionFile(path.with_name(path.name + "-version"))
        self._opened = False
        self._identity: tuple[int, int] | None = None
        self._cache = _Cache(None, [])
        self._check_at = 0.0
        # Fault objects handed out by add(): their hits and times follow the shared row, so a
        # caller holding one sees how often its rule fired.
        self._live: weakref.WeakValueDictionary[int, Fault] = weakref.WeakValueDictionary()
        with self._guard:
            self._open()

    # -- the four operations -------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        rule = json.dumps({name: getattr(fault, name) for name in sorted(_RULE_FIELDS)})

        def insert() -> int:
            with self._writer, self._connection() as db:
                cursor = db.execute(
                    "INSERT INTO faults (rule, times, hits) VALUES (?, ?, 0)", (rule, fault.times)
                )
                return int(cursor.lastrowid or 0)

        fault.id = self._run(insert)
        self._changed()
        with self._guard:
            self._live[fault.id] = fault
        return fault

    def take(
        self, operation: str, bucket: str | None, key: str | None, part_number: int | None
    ) -> Fault | None:
        try:
            version = self._version()
            cache = self._cache
            if version != cache.version or time.monotonic() >= self._check_at:
                cache = self._run(self._refresh)
            for rule in cache.rules:
                if rule.matches(operation, bucket, key, part_number):
                    return self._run(lambda: self._consume(operation, bucket, key, part_number))
            return None
        except (sqlite3.Error, OSError, ValueError):
            log.exception("fault rules in %s are unusable: no faults for a second", self.path)
            version = None
            with contextlib.suppress(OSError):
                version = self._version()  # the files may have been closed meanwhile
            self._cache = _Cache(version, [])
            self._check_at = time.monotonic() + _RECHECK_SECONDS
            return None

    def rules(self) -> list[dict[str, Any]]:
        return [self._remember(f).to_dict() for f in self._run(self._read)]

    def clear(self) -> None:
        def delete() -> None:
            with self._writer, self._connection() as db:
                db.execute("DELETE FROM faults")

        self._run(delete)
        self._changed()

    def close(self) -> None:
        with self._guard:
            self._close_files()
        self._mark.close()

    # -- reading and consuming -----------------------------------------------------------------

    def _version(self) -> bytes | None:
        return self._mark.read()

    def _refresh(self) -> _Cache:
        version = self._version()  # before the rules: see the module docstring
        cache = _Cache(version, self._read())
        self._cache = cache
        self._check_at = time.monotonic() + _RECHECK_SECONDS
        return cache

    def _read(self) -> list[Fault]:
        with self._connection() as db:
            return [_fault_from_row(row) for row in db.execute(_SELECT).fetchall()]

    def _consume(
        self, operation: str, bucket: str | None, key: str | None, part_number: int | None
    ) -> Fault | None:
        """Count the first matching rule down inside one write transaction.

        ``BEGIN IMMEDIATE`` takes SQLite's one writer lock before reading, so two processes
        cannot both see ``times == 1``; the match runs in Python, with ``Fault.matches`` (no
        second definition of matching in SQL, no ``RETURNING``, which needs SQLite 3.35).
        """
        with self._writer, self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                rules = [_fault_from_row(row) for row in db.execute(_SELECT).fetchall()]
                fault = next(
                    (f for f in rules if f.matches(operation, bucket, key, part_number)), None
                )
                if fault is not None:
                    fault.times -= 1
                    fault.hits += 1
                    if fault.times > 0:
                        db.execute(
                            "UPDATE faults SET times = ?, hits = ? WHERE id = ?",
                            (fault.times, fault.hits, fault.id),
                        )
                    else:
                        db.execute("DELETE FROM faults WHERE id = ?", (fault.id,))
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        if fault is None:
            return None  # another thread or process took the last one
        self._changed()
        return self._remember(fault)

    def _remember(self, fault: Fault) -> Fault:
        """Bring the object add() returned for this rule up to date (counts only move one way)."""
        with self._guard:
            live = self._live.get(fault.id)
            if live is not None:
                live.times = min(live.times, fault.times)
                live.hits = max(live.hits, fault.hits)
        return fault

    def _changed(self) -> None:
        """Tell every process the rules changed; only after the change is committed."""
        self._mark.bump()

    # -- files and connections -----------------------------------------------------------------

    def _run(self, operation: Callable[[], T]) -> T:
        """``operation`` on the current files; on an error, reopen (repairing) and retry once."""
        self._follow_files()
        try:
            return operation()
        except (sqlite3.Error, OSError) as e:
            log.warning("fault rules in %s: %s; reopening", self.path, e)
        with self._guard:
            self._close_files()
            self._open()
        return operation()

    def _follow_files(self) -> None:
        """Reopen if the files were never opened, or were deleted or replaced since."""
        with self._guard:
            if not self._opened or self._identity != self._current_identity():
                self._close_files()
                self._open()

    def _current_identity(self) -> tuple[int, int] | None:
        """The database file's; the version file is followed by its ``VersionFile``."""
        try:
            db = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (db.st_dev, db.st_ino)

    def _open(self) -> None:
        """Open the files, creating them, or replacing a corrupt database (caller holds _guard)."""
        before = self._identity
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.path}.lock"):
            db, replaced = self._checked_connection()
            if replaced:
                self._mark.bump()
        self._idle, self._all, self._opened = [db], {db}, True
        self._identity = self._current_identity()
        self._cache = _Cache(None, [])
        if self._identity != before:
            self._live.clear()  # ids restart in a new file

    def _checked_connection(self) -> tuple[sqlite3.Connection, bool]:
        """A connection to a readable rules file; a corrupt one is deleted and started afresh.

        Runs under the file lock, so two processes that both find the file corrupt do not both
        delete it: the second finds the first one's fresh file readable.
        """
        try:
            return self._ready_connection(), False
        except sqlite3.OperationalError:
            raise  # locked, read-only, disk full: not corruption
        except sqlite3.DatabaseError as e:
            log.warning("fault rules file %s is unreadable (%s): starting empty", self.path, e)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return self._ready_connection(), True

    def _ready_connection(self) -> sqlite3.Connection:
        db = self._connect()
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM faults").fetchone()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # test scaffolding: a power cut may lose a rule
        except sqlite3.Error:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection: one per concurrent caller, so a thread per request leaks none."""
        with self._guard:
            if self._idle:
                db = self._idle.pop()
            else:
                db = self._connect()
                self._all.add(db)
        try:
            yield db
        except BaseException:
            with self._guard:
                self._all.discard(db)
            db.close()
            raise
        with self._guard:
            if db in self._all:
                self._idle.append(db)
                return
        db.close()  # the files were reopened while it was out

    def _close_files(self) -> None:
        """Close idle connections now and busy ones when they come back (caller holds _guard)."""
        for db in self._idle:
            db.close()
        self._idle, self._all, self._opened = [], set(), False
        self._cache = _Cache(None, [])
        self._check_at = 0.0  # the next take() reopens


def _fault_from_row(row: tuple[Any, ...]) -> Fault:
    rule_id, rule, times, hits = row
    fields = {k: v for k, v in json.loads(rule).items() if k in _RULE_FIELDS}
    return Fault(**fields, id=rule_id, times=times, hits=hits)
