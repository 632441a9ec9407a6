"""A change mark shared by every process on a data dir: 8 random bytes in a small file.

A writer rewrites the bytes after each committed change. A reader keeps what it read together
with the bytes it read just before reading it; while the bytes are unchanged its copy is
current (a change it missed rewrote them after it). A read of a shared mapping of the file
instead of a SQLite read transaction (several syscalls; the two a 4 KiB GET made were about a
tenth of its CPU), and no system call at all, so the reading thread keeps the GIL.
The fault rules (``faults/shared.py``) and the bucket rows and settings
(``storage/bucket_cache.py``) use it.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from pathlib import Path

#: How soon a process notices that the file was deleted or replaced, and so the longest a copy
#: is trusted whatever the file says.
RECHECK_SECONDS = 1.0


class VersionFile:
    """The mark of one kind of data; :meth:`read` follows a file deleted or replaced since.

    Only the mapping is kept (it holds the file): no descriptor of its own, and :meth:`bump`
    writes through it, as the readers of every process see it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # a closed mapping cannot be read or written
        self._map: mmap.mmap | None = None
        self._identity: tuple[int, int] | None = None
        self._check_at = 0.0

    def read(self) -> bytes | None:
        """The current mark; None when the file cannot be had (then nothing may be trusted)."""
        if time.monotonic() >= self._check_at:
            self._follow()
        mapped = self._map
        try:
            return mapped[:8] if mapped is not None else None
        except ValueError:  # closed meanwhile by a thread that saw the file replaced
            return None

    def bump(self) -> None:
        """Tell every process the data changed: only ever after the change is committed (into
        the file at the path now: a deleted one would tell nobody)."""
        with self._lock:
            self._follow_locked()
            if self._map is not None:
                self._map[:8] = os.urandom(8)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _follow(self) -> None:
        with self._lock:
            self._follow_locked()

    def _follow_locked(self) -> None:
        self._check_at = time.monotonic() + RECHECK_SECONDS
        if self._map is not None and self._identity != _identity_of(self.path):
            self._close()
        self._open_if_needed()

    def _open_if_needed(self) -> None:
        if self._map is not None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        try:
            if os.fstat(fd).st_size < 8:  # new: a mark nobody can hold yet
                os.write(fd, os.urandom(8))
            mapped = mmap.mmap(fd, 8)
        except (OSError, ValueError):
            return
        finally:
            os.close(fd)  # the mapping holds the file
        self._map, self._identity = mapped, _identity_of(self.path)

    def _close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


def _identity_of(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
