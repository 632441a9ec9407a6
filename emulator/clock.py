"""The emulator's one idea of "now", handed to storage, auth, the journal and the access log.

Everything that stamps a time or checks an expiry asks a :class:`Clock` instead of calling
``time.time()``. A served emulator uses a :class:`SharedClock`: wall time plus an offset that a
test moves forward (``POST /_ossemu/clock``, ``oss_emulator.advance_clock``) to expire presigned
URLs, POST policies and temporary credentials without waiting. The offset lives in a small file
of the data dir, so every worker process agrees on the time. Durations keep
``time.monotonic()``: they measure, not date.
"""

from __future__ import annotations

import math
import mmap
import os
import time
import zlib
from pathlib import Path

#: How far a test may move the clock either way (a century): past that, dates stop printing.
MAX_OFFSET = 100 * 365 * 86400.0
_WIDTH = 48  # fixed width: a rewrite never leaves a longer, older tail behind


class Clock:
    """Wall-clock time in epoch seconds."""

    def now(self) -> float:
        """Seconds since the epoch, as the emulator should see them."""
        return time.time()

    @property
    def offset(self) -> float:
        return 0.0


WALL_CLOCK = Clock()


class SharedClock(Clock):
    """Wall time plus an offset kept in ``path``, read on every call from a shared mapping of
    the file (a memory read: no system call that would give the GIL away, as a ``pread`` did,
    three times per PUT).

    The file holds the offset and its CRC-32, so a reader that races a writer sees a mismatch
    and reads again instead of taking half of each value.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(self._fd).st_size < _WIDTH:  # new: room for an offset, none yet
                os.ftruncate(self._fd, _WIDTH)
            self._map = mmap.mmap(self._fd, _WIDTH)
        except BaseException:
            os.close(self._fd)
            raise
        self._closed_at = 0.0  # the offset when closed: what a request still finishing reads

    def now(self) -> float:
        return time.time() + self.offset

    @property
    def offset(self) -> float:
        try:
            for _ in range(5):
                value = _decode(self._map[:_WIDTH])
                if value is not None:
                    return value
        except ValueError:  # the mapping is closed: a request finishing while its app shuts down
            return self._closed_at
        return 0.0  # a damaged file: fall back to the wall clock rather than fail requests

    def set_offset(self, seconds: float) -> float:
        """Make "now" ``seconds`` away from wall time (0 puts the clock back)."""
        if not math.isfinite(seconds) or abs(seconds) > MAX_OFFSET:
            raise ValueError(f"clock offset must be finite and within {MAX_OFFSET:.0f} s")
        os.pwrite(self._fd, _encode(seconds), 0)
        return seconds

    def advance(self, seconds: float) -> float:
        """Move "now" forward by ``seconds`` (negative moves it back); returns the new offset."""
        return self.set_offset(self.offset + seconds)

    def close(self) -> None:
        if not self._map.closed:
            self._closed_at = self.offset
        self._map.close()
        os.close(self._fd)


def _encode(offset: float) -> bytes:
    text = repr(float(offset))
    line = f"{text} {zlib.crc32(text.encode()):08x}"
    return line.ljust(_WIDTH - 1).encode() + b"\n"


def _decode(raw: bytes) -> float | None:
    if not raw.strip(b"\x00 \n"):
        return 0.0  # a new file: no offset yet
    text, _, crc = raw.decode("ascii", "replace").strip().partition(" ")
    if crc != f"{zlib.crc32(text.encode()):08x}":
        return None
    try:
        return float(text)
    except ValueError:
        return None
