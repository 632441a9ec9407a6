"""Start the disk on a big blob's bytes while the rest of the body still arrives.

A blob is fsynced before its upload is answered. Left alone, the kernel keeps a big body's pages
dirty until that fsync, which then writes them all while the client waits for the answer.
Linux's ``sync_file_range(SYNC_FILE_RANGE_WRITE)`` starts writing a range and returns without
waiting, so the final fsync finds most pages written: a 256 MiB PUT was answered 154 -> 38 ms
after its last byte, and joining 512 MiB of parts took 415 -> 300 ms (``bench/analysis.md``).
It promises nothing (only the fsync does) and is skipped where the call does not exist; Python's
``os`` does not offer it, hence ``ctypes``.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

#: How many bytes a writer lets pile up before it asks the disk to start on them.
STEP = 8 * 1024 * 1024

_SYNC_FILE_RANGE_WRITE = 2


def _load() -> Callable[[int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    call.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> int:
        return call(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # -1 leaves it to the fsync

    return start


_start = _load()


class Writeback:
    """Feed it the running size of a file being written; every :data:`STEP` bytes it starts
    the disk on the bytes written since the last time (``start`` is the system call)."""

    def __init__(self, fd: int, start: Callable[[int, int, int], object] | None = None) -> None:
        self._fd = fd
        self._start = start or _start
        self._started = 0

    def wrote(self, size: int) -> None:
        if self._start is not None and size - self._started >= STEP:
            self._start(self._fd, self._started, size - self._started)
            self._started = size
