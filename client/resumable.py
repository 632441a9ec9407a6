"""Resumable upload: a file in parallel parts, restartable after a crash, callback on Complete.

Flow: a file that fits in one part goes through PutObject. Otherwise, under the checkpoint's
lock: resume the recorded upload (its parts re-validated against ListParts) or initiate a new
one; send the missing parts in parallel, recording each in the checkpoint
(:mod:`client.checkpoint`); Complete with the callback; drop the checkpoint as soon as Complete
answers 200 or 203, because the upload id is spent either way. A resumed upload keeps the part
size it started with, whatever ``part_size`` the later call asks for.

Abort policy: with a checkpoint, a failed call never aborts the upload; the parts stay on
OSS for the next call to resume (or for a lifecycle rule / ``abort_multipart_upload`` to clean
up). Without one (``checkpoint=False``) nothing could resume it, so any failure aborts it,
except after Complete answered (203, CRC mismatch): that upload id is already spent. A local
file that changed since the checkpoint was written gets its old upload aborted (with a
warning) and a fresh one started.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .body import ProgressCallback, ProgressReporter
from .bucket_base import check_key, guess_content_type
from .callback import Callback, callback_headers
from .checkpoint import Checkpoint, Fingerprint, checkpoint_path, locked, part_size_for
from .exceptions import (
    CallbackError,
    ClientError,
    InconsistentError,
    NoSuchUpload,
    OssError,
    ServerError,
)
from .models import CompleteMultipartUploadResult, PartResult, PutObjectResult

if TYPE_CHECKING:
    from .bucket import Bucket

# Headers OSS checks again at Complete, so they must travel there too.
_COMPLETE_HEADERS = ("x-oss-forbid-overwrite",)

#: Seconds between checkpoint rewrites while parts land (always rewritten at the end).
SAVE_INTERVAL = 1.0


class _FileWindow(io.RawIOBase):
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


@dataclass(frozen=True)
class _Job:
    """What one ``resumable_upload`` call was asked to do."""

    bucket: Bucket
    key: str
    path: str
    fd: int
    fingerprint: Fingerprint
    threads: int
    store: Path | None
    callback: Callback | None
    callback_vars: Mapping[str, Any] | None
    headers: Mapping[str, str]
    progress: ProgressCallback | None

    @property
    def content_type(self) -> str:
        return guess_content_type(self.path, self.key)

    def save(self, checkpoint: Checkpoint) -> None:
        if self.store is not None:
            checkpoint.save(self.store)

    def forget(self) -> None:
        if self.store is not None:
            self.store.unlink(missing_ok=True)


def resumable_upload(
    bucket: Bucket,
    key: str,
    path: str | os.PathLike[str],
    *,
    part_size: int | None = None,
    threads: int = 4,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    checkpoint: bool = True,
    callback: Callback | None = None,
    callback_vars: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> PutObjectResult:
    """Upload the file at ``path`` as ``key``; see :meth:`client.Bucket.resumable_upload`."""
    check_key(key)
    if not isinstance(threads, int) or threads < 1:
        raise ClientError(f"threads must be a positive integer, not {threads!r}.")
    callback_headers(callback, callback_vars)  # refuse a bad callback before sending any part
    file_path = os.path.realpath(os.fspath(path))
    fd = os.open(file_path, os.O_RDONLY)
    try:
        job = _Job(
            bucket,
            key,
            file_path,
            fd,
            Fingerprint.of(os.fstat(fd)),
            threads,
            checkpoint_path(checkpoint_dir, file_path, bucket.name, key) if checkpoint else None,
            callback,
            callback_vars,
            dict(headers or {}),
            progress,
        )
        if job.store is None:
            return _upload(job, None, part_size)
        with locked(job.store):
            return _upload(job, _usable_checkpoint(job), part_size)
    finally:
        os.close(fd)


def _upload(job: _Job, recorded: Checkpoint | None, part_size: int | None) -> PutObjectResult:
    if recorded is not None:
        resumed = _resume(job, recorded)
        if isinstance(resumed, PutObjectResult):
            return resumed
        if resumed is not None:
            return _multipart(job, resumed)
    size = job.fingerprint.size
    chosen = part_size_for(size, part_size)
    if size <= chosen:
        return job.bucket.put_object(
            job.key,
            _FileWindow(job.fd, 0, size),
            content_type=job.content_type,
            headers=job.headers,
            callback=job.callback,
            callback_vars=job.callback_vars,
            progress=job.progress,
        )
    return _multipart(job, _initiate(job, chosen))


def _usable_checkpoint(job: _Job) -> Checkpoint | None:
    """The recorded upload if it still describes this file; stale ones are cleaned up."""
    assert job.store is not None
    try:
        recorded = Checkpoint.load(job.store)
    except ValueError as exc:
        _warn(f"Ignoring the unreadable checkpoint {job.store} ({exc}); starting a new upload.")
        job.forget()
        return None
    if recorded is None:
        return None
    if (recorded.bucket, recorded.key, recorded.file) != (job.bucket.name, job.key, job.path):
        _warn(f"Ignoring the checkpoint {job.store}: it belongs to another upload.")
        job.forget()
        return None
    if recorded.fingerprint != job.fingerprint:
        _warn(
            f"{job.path} changed since upload {recorded.upload_id} started; aborting that "
            "upload and starting again."
        )
        with contextlib.suppress(NoSuchUpload):
            job.bucket.abort_multipart_upload(job.key, recorded.upload_id)
        job.forget()
        return None
    return recorded


def _warn(message: str) -> None:
    # Caller's frame: Bucket.resumable_upload -> resumable_upload -> (helper) -> here.
    warnings.warn(message, UserWarning, stacklevel=5)


def _multipart(job: _Job, checkpoint: Checkpoint) -> PutObjectResult:
    try:
        _send_parts(job, checkpoint)
        _check_unchanged(job)
        return _complete(job, checkpoint)
    except (CallbackError, InconsistentError):
        raise  # Complete answered, so the upload id is already spent
    except BaseException:
        if job.store is None:
            with contextlib.suppress(OssError):
                job.bucket.abort_multipart_upload(job.key, checkpoint.upload_id)
        raise


def _initiate(job: _Job, part_size: int) -> Checkpoint:
    upload_id = job.bucket.init_multipart_upload(
        job.key, content_type=job.content_type, headers=job.headers
    )
    checkpoint = Checkpoint(
        job.bucket.name, job.key, job.path, upload_id, part_size, job.fingerprint
    )
    job.save(checkpoint)
    return checkpoint


def _resume(job: _Job, checkpoint: Checkpoint) -> Checkpoint | PutObjectResult | None:
    """Keep the recorded parts that ListParts confirms; None when the upload is gone."""
    try:
        listed = {p.number: p for p in job.bucket.list_parts(job.key, checkpoint.upload_id)}
    except NoSuchUpload:
        if not checkpoint.missing():
            adopted = _adopt_completed(job, checkpoint)
            if adopted is not None:
                job.forget()
                return adopted
        job.forget()
        return None
    confirmed = {
        n: part
        for n, part in checkpoint.parts.items()
        if n <= checkpoint.part_count and _same_part(part, listed.get(n), checkpoint, n)
    }
    if confirmed != checkpoint.parts:
        checkpoint.parts = confirmed
        job.save(checkpoint)
    return checkpoint


def _same_part(
    recorded: PartResult, listed: PartResult | None, checkpoint: Checkpoint, number: int
) -> bool:
    if listed is None or recorded.size != checkpoint.part_range(number)[1]:
        return False
    if listed.size is not None and listed.size != recorded.size:
        return False
    if listed.etag.upper() != recorded.etag.upper():
        return False
    return listed.crc64 is None or recorded.crc64 is None or listed.crc64 == recorded.crc64


def _send_parts(job: _Job, checkpoint: Checkpoint) -> None:
    """Upload the missing parts in parallel, recording each one as it lands.

    A landed part is in the checkpoint file within ``SAVE_INTERVAL`` seconds, and always before
    this returns or raises, but the file is rewritten at most that often: rewriting it after
    every part cost O(parts²), for 10,000 parts about 3.5 GB written and 10,000 serialisations
    of up to 40 ms. A crash loses at most the last interval's parts, which the resumed upload
    sends again.
    """
    reporter = ProgressReporter(job.progress, job.fingerprint.size)
    reporter.update(checkpoint.done_bytes())
    missing = checkpoint.missing()
    if not missing:
        return
    failure: BaseException | None = None
    saved_at = time.monotonic()
    pending: set[Future[PartResult]] = set()
    try:
        with ThreadPoolExecutor(min(job.threads, len(missing)), "oss-part") as pool:
            pending = {pool.submit(_upload_part, job, checkpoint, n, reporter) for n in missing}
            unsaved = False
            try:
                while pending and failure is None:
                    due = saved_at + SAVE_INTERVAL - time.monotonic() if unsaved else None
                    done, pending = wait(
                        pending,
                        timeout=None if due is None else max(0.0, due),
                        return_when=FIRST_COMPLETED,
                    )
                    failure = _record(checkpoint, done)
                    unsaved = unsaved or bool(done)
                    if unsaved and time.monotonic() - saved_at >= SAVE_INTERVAL:
                        job.save(checkpoint)
                        saved_at, unsaved = time.monotonic(), False
            finally:
                for future in pending:
                    future.cancel()
        # The pool has drained: parts in flight when a sibling failed may have landed too.
        late_failure = _record(checkpoint, pending)
        failure = failure or late_failure
    finally:
        job.save(checkpoint)
    if failure is not None:
        raise failure


def _record(checkpoint: Checkpoint, futures: set[Future[PartResult]]) -> BaseException | None:
    """Add the finished parts to the checkpoint; the first failure among them, if any."""
    failure = None
    for future in futures:
        if future.cancelled():
            continue
        error = future.exception()
        if error is not None:
            failure = failure or error
            continue
        part = future.result()
        checkpoint.parts[part.number] = part
    return failure


def _upload_part(
    job: _Job, checkpoint: Checkpoint, number: int, reporter: ProgressReporter
) -> PartResult:
    offset, length = checkpoint.part_range(number)
    counted = 0

    def on_progress(done: int, _total: int | None) -> None:
        nonlocal counted
        if done > counted:
            reporter.add(done - counted)
            counted = done

    return job.bucket.upload_part(
        job.key,
        checkpoint.upload_id,
        number,
        _FileWindow(job.fd, offset, length),
        progress=on_progress,
    )


def _check_unchanged(job: _Job) -> None:
    """Parts read from a file that changed mid-upload would assemble into a chimera."""
    if Fingerprint.of(os.stat(job.path)) != job.fingerprint:
        raise ClientError(
            f"{job.path} changed while it was being uploaded; run the upload again to restart it."
        )


def _complete(job: _Job, checkpoint: Checkpoint) -> PutObjectResult:
    parts = [checkpoint.parts[n] for n in range(1, checkpoint.part_count + 1)]
    extra = {k: v for k, v in job.headers.items() if k.lower() in _COMPLETE_HEADERS}
    try:
        result = job.bucket.complete_multipart_upload(
            job.key,
            checkpoint.upload_id,
            parts,
            callback=job.callback,
            callback_vars=job.callback_vars,
            headers=extra,
        )
    except NoSuchUpload:
        # A Complete whose answer was lost (then replayed) already made the object.
        adopted = _adopt_completed(job, checkpoint)
        job.forget()
        if adopted is None:
            raise
        return adopted
    except (CallbackError, InconsistentError):
        job.forget()
        raise
    job.forget()
    return result


def _adopt_completed(job: _Job, checkpoint: Checkpoint) -> PutObjectResult | None:
    """The object as stored, when it is this upload's result (size, part count, CRC-64)."""
    try:
        meta = job.bucket.head_object(job.key)
    except ServerError as exc:
        if exc.status == 404:
            return None
        raise
    crc = checkpoint.combined_crc()
    if (
        meta.size != job.fingerprint.size
        or not (meta.etag or "").endswith(f"-{checkpoint.part_count}")
        or (crc is not None and meta.crc64 is not None and meta.crc64 != crc)
    ):
        return None
    return CompleteMultipartUploadResult(
        status=meta.status,
        request_id=meta.request_id,
        headers=meta.headers,
        etag=meta.etag,
        crc64=meta.crc64,
        version_id=meta.version_id,
        bucket=job.bucket.name,
        key=job.key,
    )
