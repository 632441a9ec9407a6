"""Each process's copy of the bucket rows and bucket settings that every request reads.

Every PUT looked its bucket up, every response of a bucket read its CORS rules and every GET
its lifecycle: SQLite read transactions, a tenth of a served 4 KiB GET's CPU (``bench/
analysis.md``, issue 16). They change rarely, and only through ``Buckets``' writes, which call
:meth:`BucketCache.changed` once committed. A copy is kept with the version file's mark read
just before it (``version_file.py``), and trusted while the mark is unchanged and for at most
``RECHECK_SECONDS`` whatever happened to the file. Reads go to the thread's reading connection,
never the writer's, so nothing uncommitted (and perhaps rolled back) is ever copied.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import NamedTuple

from ..version_file import RECHECK_SECONDS, VersionFile
from .models import BucketInfo

#: Buckets one process keeps; past this the copy starts again (memory stays bounded however
#: many buckets a long test run makes).
MAX_CACHED_BUCKETS = 4096


class _Copy(NamedTuple):
    mark: bytes | None
    until: float
    rows: dict[str, BucketInfo]  # only buckets that exist: a missing one is asked each time
    settings: dict[str, dict[str, str]]


class BucketCache:
    """``bucket(name)`` and ``setting(bucket, name)`` from this process's copy while current."""

    def __init__(self, read: Callable[[], sqlite3.Connection], version: VersionFile) -> None:
        self._read = read
        self._version = version
        self._copy = _Copy(None, 0.0, {}, {})

    def bucket(self, name: str) -> BucketInfo | None:
        """The bucket's row, None when there is no such bucket."""
        copy = self._current()
        info = copy.rows.get(name)
        if info is None:
            row = (
                self._read()
                .execute(
                    "SELECT name, created, region, storage_class FROM buckets WHERE name = ?",
                    (name,),
                )
                .fetchone()
            )
            if row is None:
                return None
            info = BucketInfo(*row)
            _keep(copy, copy.rows, name, info)
        return info

    def setting(self, bucket: str, name: str) -> str | None:
        """A setting of the bucket, None when unset or when there is no such bucket."""
        copy = self._current()
        values = copy.settings.get(bucket)
        if values is None:
            rows = self._read().execute(
                "SELECT name, value FROM bucket_settings WHERE bucket = ?", (bucket,)
            )
            values = {row[0]: row[1] for row in rows}
            _keep(copy, copy.settings, bucket, values)
        return values.get(name)

    def changed(self) -> None:
        """After a committed (or possibly committed) write of buckets or their settings:
        every process reads them again."""
        self._copy = _Copy(None, 0.0, {}, {})
        self._version.bump()

    def close(self) -> None:
        self._version.close()

    def _current(self) -> _Copy:
        mark = self._version.read()  # before any row is read: see the module docstring
        copy = self._copy
        now = time.monotonic()
        if mark is None or mark != copy.mark or now >= copy.until:
            copy = self._copy = _Copy(mark, now + RECHECK_SECONDS, {}, {})
        return copy


def _keep(copy: _Copy, table: dict, key: str, value: object) -> None:
    if copy.mark is None:
        return  # no mark to trust it by
    if len(table) >= MAX_CACHED_BUCKETS:
        table.clear()
    table[key] = value
