"""Downloads: a streaming object reader with CRC-64 check, and atomic writes to a file.

Bytes are read raw (``decode_content=False``) so an object stored with ``Content-Encoding:
gzip`` arrives exactly as stored and its CRC matches the server's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from types import TracebackType

import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import HTTPError as Urllib3Error

from .body import ProgressCallback, ProgressReporter
from .crc import Crc64
from .exceptions import InconsistentError, RequestError
from .models import ObjectMeta

CHUNK = 256 * 1024


class ObjectStream:
    """A GetObject response being read: ``read()``, ``iter_chunks()``, a context manager.

    When the whole object was requested and the server sent ``x-oss-hash-crc64ecma``, reaching
    the end verifies it and raises :class:`InconsistentError` on mismatch.
    """

    def __init__(self, resp: requests.Response, *, verify_crc: bool = True) -> None:
        self._resp = resp
        self.meta = ObjectMeta.from_response(resp)
        check = verify_crc and resp.status_code == 200 and self.meta.crc64 is not None
        self._crc: Crc64 | None = Crc64() if check else None
        self._finished = False
        self.closed = False

    @property
    def status(self) -> int:
        """200, or 206 for a range."""
        return self._resp.status_code

    @property
    def headers(self) -> CaseInsensitiveDict[str]:
        """The response headers."""
        return self._resp.headers

    @property
    def request_id(self) -> str | None:
        """OSS's ``x-oss-request-id``."""
        return self.meta.request_id

    @property
    def content_length(self) -> int | None:
        """Bytes in this response (the range length for a 206)."""
        value = self._resp.headers.get("Content-Length", "")
        return int(value) if value.isdigit() else None

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (everything left when negative); ``b""`` at the end."""
        if self._finished or self.closed:
            return b""
        try:
            if size is None or size < 0:
                data = self._resp.raw.read(decode_content=False) or b""
                eof = True
            else:
                data = self._resp.raw.read(size, decode_content=False) or b""
                eof = not data and size > 0
        except (Urllib3Error, OSError) as exc:
            self.close()
            raise RequestError(f"Download interrupted: {exc}", exc) from exc
        if self._crc is not None and data:
            self._crc.update(data)
        if eof:
            self._finish()
        return data

    def iter_chunks(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """Yield the body in chunks of at most ``chunk_size`` bytes."""
        while chunk := self.read(chunk_size):
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def _finish(self) -> None:
        self._finished = True
        if not self.closed:
            # Fully read: hand the connection back to the pool (``close`` would drop it).
            self.closed = True
            self._resp.raw.release_conn()
        expected = self.meta.crc64
        if self._crc is not None and expected is not None and self._crc.value != expected:
            raise InconsistentError(self._crc.value, expected, self.meta.request_id)

    def close(self) -> None:
        """Return the connection to the pool (or drop it if unread data remains)."""
        if not self.closed:
            self.closed = True
            self._resp.close()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_all(stream: ObjectStream) -> bytes:
    """The whole body as bytes, verified."""
    with stream:
        return b"".join(stream.iter_chunks())


def write_atomically(
    stream: ObjectStream,
    path: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
) -> ObjectMeta:
    """Write the body to ``path`` via a temp file + rename: never a half-written file there.

    The file gets the mode a plain ``open(path, "w")`` would give it: a new one ``0o666`` less
    the umask (the kernel applies it), an existing one keeps its mode.
    """
    target = os.fspath(path)
    try:
        fd, temp = _temp_beside(target)
    except BaseException:
        stream.close()
        raise
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        reporter = ProgressReporter(progress, stream.content_length)
        with stream, os.fdopen(fd, "wb") as out:
            done = 0
            for chunk in stream.iter_chunks():
                out.write(chunk)
                done += len(chunk)
                reporter.update(done)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return stream.meta


def _temp_beside(target: str) -> tuple[int, str]:
    """A new, exclusive temp file next to ``target`` (same file system, so rename is atomic)."""
    directory = os.path.dirname(os.path.abspath(target))
    while True:
        temp = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.part")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temp
        except FileExistsError:
            continue
