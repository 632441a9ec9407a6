"""Request bodies: one reader type for bytes, files and iterators.

Every body is read through :class:`RequestBody`, which streams (nothing is read whole into
memory), folds each chunk into a CRC-64, reports progress, and knows whether it can be replayed
(bytes and seekable files rewind; iterators and pipes cannot). A known length becomes
``Content-Length``; an unknown one makes ``requests`` send ``Transfer-Encoding: chunked``.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from .crc import Crc64
from .exceptions import ClientError

ProgressCallback = Callable[[int, "int | None"], None]
CHUNK = 64 * 1024


class ProgressReporter:
    """Calls ``callback(bytes_done, total)`` with a never-decreasing ``bytes_done``.

    Thread-safe, so parallel part uploads can share one; a replayed request does not make the
    count go backwards (it resumes reporting once it passes the previous high-water mark).
    """

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self.total = total
        self._done = 0
        self._reported = False
        self._lock = threading.Lock()

    def add(self, amount: int) -> None:
        """Count ``amount`` more bytes as transferred."""
        with self._lock:
            self._emit(self._done + amount)

    def update(self, done: int) -> None:
        """Report ``done`` bytes if it moves the high-water mark (or nothing was reported)."""
        with self._lock:
            self._emit(done)

    def _emit(self, done: int) -> None:
        if self._callback is None or (done <= self._done and self._reported):
            return
        self._done = max(done, self._done)
        self._reported = True
        self._callback(self._done, self.total)


class FileWindow(io.RawIOBase):
    """Bytes ``[offset, offset + length)`` of a shared descriptor, read with ``os.pread``.

    Each worker reads its own part without moving a shared file position; seekable, so the
    transport can rewind it for a retry.
    """

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd, self._offset, self._length, self._pos = fd, offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = min(max(0, base + pos), self._length)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._length - self._pos)
        if size <= 0:
            return 0
        data = os.pread(self._fd, size, self._offset + self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


class RequestBody:
    """A one-pass reader over the caller's data with CRC, progress and rewind."""

    def __init__(
        self,
        source: IO[bytes] | Iterator[bytes],
        length: int | None,
        *,
        start: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._source = source
        self.length = length
        self._start = start
        self.replayable = start is not None
        self.reporter = ProgressReporter(progress, length)
        self.crc = Crc64()
        self.started = False
        self._buffer = b""

    @property
    def sent(self) -> int:
        """Bytes handed to the transport so far in this attempt."""
        return self.crc.length

    def rewind(self) -> None:
        """Go back to the start for a replay; only valid when ``replayable``."""
        if not self.replayable:
            raise ClientError("This body is a one-shot stream and cannot be replayed.")
        self._source.seek(self._start or 0)  # type: ignore[union-attr]
        self.crc = Crc64()
        self.started = False
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining when negative)."""
        self.started = True
        if size is None or size < 0:
            size = CHUNK
        if self.length is not None:
            size = min(size, self.length - self.crc.length)
            if size <= 0:
                return b""
        data = self._read_source(size)
        if not data and self.length is not None:
            raise ClientError(
                f"The source ended after {self.crc.length} of {self.length} bytes "
                "(did the file shrink while uploading?)."
            )
        if data:
            self.crc.update(data)
            self.reporter.update(self.crc.length)
        return data

    def _read_source(self, size: int) -> bytes:
        source = self._source
        if hasattr(source, "read"):
            data = source.read(size)
            if isinstance(data, str):
                raise ClientError("Open files in binary mode ('rb') to upload them.")
            return bytes(data)
        while not self._buffer:
            try:
                chunk = next(source)  # type: ignore[call-overload]
            except StopIteration:
                return b""
            self._buffer = _as_bytes(chunk)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk


class SizedRequestBody(RequestBody):
    """A body of known length: ``requests`` sends ``Content-Length`` instead of chunks."""

    def __len__(self) -> int:
        return self.length or 0


def _as_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes | bytearray | memoryview):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode()
    raise ClientError(f"Iterator bodies must yield bytes, got {type(chunk).__name__}.")


def _seekable_length(fileobj: IO[bytes]) -> tuple[int, int] | None:
    """(start, remaining length) for a seekable file, None when it cannot seek."""
    try:
        if not fileobj.seekable():
            return None
        start = fileobj.tell()
        try:
            end = os.fstat(fileobj.fileno()).st_size
        except (OSError, io.UnsupportedOperation, AttributeError):
            end = fileobj.seek(0, io.SEEK_END)
            fileobj.seek(start)
        return start, max(0, end - start)
    except (OSError, ValueError, AttributeError):
        return None


def make_body(data: Any, progress: ProgressCallback | None = None) -> RequestBody | None:
    """Wrap what the caller passed; ``None`` for an empty body."""
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, bytes | bytearray | memoryview):
        if not len(data):
            return None
        return SizedRequestBody(io.BytesIO(bytes(data)), len(data), start=0, progress=progress)
    if isinstance(data, os.PathLike):
        raise ClientError("Pass a path as file=..., not as data.")
    if isinstance(data, io.TextIOBase):
        raise ClientError("Open files in binary mode ('rb') to upload them.")
    if hasattr(data, "read"):
        seekable = _seekable_length(data)
        if seekable is None:
            return RequestBody(data, None, progress=progress)
        start, length = seekable
        if length == 0:
            return None
        return SizedRequestBody(data, length, start=start, progress=progress)
    if isinstance(data, Iterable):
        return RequestBody(iter(data), None, progress=progress)
    raise ClientError(f"Cannot upload a {type(data).__name__}: use bytes, str, a file or chunks.")
