"""MD5 + CRC-64 of a streamed body, with MD5 moved beside the I/O once the body proves big.

MD5 (~700 MB/s, one core) was 43% of a big PUT's wall time when it ran in turn with the socket
reads and file writes. ``hashlib`` releases the GIL for buffers over 2 KiB, as do file writes and
socket reads, so a helper thread hashes chunk N while the caller writes it and reads chunk N+1.
CRC-64 (~10 GB/s) stays with the caller: it would only lengthen the helper, the slower side.
Small bodies (the common 4 KiB PUT, anything in one chunk) are hashed inline, as a thread costs
more than it saves there. The helper exists from the second 1 MiB to ``finish()``/``close()``,
takes batches through a bounded queue (a few chunks in memory, whatever the body's size) and is
joined on every path, so no thread outlives the write that started it. The MD5 object is shared
but never used by both threads at once: the caller touches it only before the start and after
the join.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import queue
import threading
from types import TracebackType

import anycrc

# Bytes hashed inline before a helper thread is worth starting (a second 1 MiB chunk starts it).
INLINE_BYTES = 1024 * 1024
# Chunks smaller than this are handed over in batches, so a trickle of tiny chunks does not pay
# a thread hand-off (and GIL switch) per chunk.
BATCH_BYTES = 256 * 1024
# Batches queued for the helper; the caller blocks (bounded memory) when it runs this far ahead.
QUEUE_DEPTH = 4

_STOP = None
_CRC64 = anycrc.Model("CRC64-XZ")

#: The CPUs the helper may run on; None: those of the thread that starts it. ``ossemu serve``
#: pins each worker to one CPU (``emulator/cpu_pinning.py``) and sets this to the CPUs the worker
#: had before, so that MD5 still runs beside the I/O on another core.
HELPER_CPUS: set[int] | None = None


class Digested:
    """What a received body reports from its MD5: the ETag and the ``Content-MD5`` value."""

    md5: bytes

    @property
    def etag(self) -> str:
        return self.md5.hex().upper()

    @property
    def content_md5(self) -> str:
        return base64.b64encode(self.md5).decode()


def crc64(data: bytes | memoryview, init: int | None = None) -> int:
    """CRC-64/XZ (OSS's ``x-oss-hash-crc64ecma``), continuing from ``init`` when given."""
    return _CRC64.calc(data) if init is None else _CRC64.calc(data, init)


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of A+B from CRC(A), CRC(B) and len(B), without reading the bytes again."""
    return _CRC64.combine(crc1, crc2, len2)


class StreamHasher:
    """Accumulates MD5 and CRC-64/XZ over ``update()`` calls; use as a context manager."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5()
        self._crc = 0
        self._inline = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._queue: queue.Queue[list[bytes] | None] | None = None
        self._thread: threading.Thread | None = None
        self._abandon = False
        self._error: BaseException | None = None
        self._result: tuple[bytes, int] | None = None

    def update(self, chunk: bytes) -> None:
        """Hash ``chunk`` (inline while the body is small, else later on the helper thread).

        The helper may read ``chunk`` after this returns, so it must not change: pass ``bytes``,
        never a buffer the caller reuses.
        """
        if self._result is not None:
            raise RuntimeError("StreamHasher already finished")
        self._crc = crc64(chunk, self._crc)
        if self._queue is None:
            if self._inline < INLINE_BYTES:
                self._md5.update(chunk)
                self._inline += len(chunk)
                return
            self._start()
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        if self._pending_bytes >= BATCH_BYTES:
            self._hand_over()

    def finish(self) -> tuple[bytes, int]:
        """Wait for the helper and return ``(md5 digest, crc64)``; re-raises a helper failure."""
        if self._result is None:
            if self._queue is not None:
                self._hand_over()
                self._join()
                if self._error is not None:
                    raise self._error
            self._result = (self._md5.digest(), self._crc)
        return self._result

    def close(self) -> None:
        """Stop the helper without finishing the hash (idempotent); the write is being abandoned."""
        if self._thread is not None:
            self._abandon = True
            self._pending = []
            self._join()

    def __enter__(self) -> StreamHasher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        self._queue = queue.Queue(QUEUE_DEPTH)
        self._thread = threading.Thread(target=self._run, name="ossemu-hasher", daemon=True)
        self._thread.start()

    def _hand_over(self) -> None:
        if self._pending:
            assert self._queue is not None
            self._queue.put(self._pending)
            self._pending = []
            self._pending_bytes = 0

    def _join(self) -> None:
        assert self._queue is not None and self._thread is not None
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        # Keeps draining after a failure or abandon: a caller blocked on a full queue never hangs.
        assert self._queue is not None
        if HELPER_CPUS:
            with contextlib.suppress(OSError):  # a CPU taken away since: stay where we are
                os.sched_setaffinity(0, HELPER_CPUS)
        while (batch := self._queue.get()) is not _STOP:
            if self._error is not None or self._abandon:
                continue
            try:
                for chunk in batch:
                    self._md5.update(chunk)
            except BaseException as e:  # noqa: BLE001 - re-raised by finish() in the caller
                self._error = e
