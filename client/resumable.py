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
import os
import warnings
from collections.abc import Mapping
from typing import Any

from .body import FileWindow, ProgressCallback
from .bucket_base import check_key
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
from .models import CompleteMultipartUploadResult, PutObjectResult
from .part_upload import send_parts
from .reconcile import reconcile
from .upload_job import UploadJob, UploadTarget

# Headers OSS checks again at Complete, so they must travel there too.
_COMPLETE_HEADERS = ("x-oss-forbid-overwrite",)


def resumable_upload(
    bucket: UploadTarget,
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
        job = UploadJob(
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


def _upload(job: UploadJob, recorded: Checkpoint | None, part_size: int | None) -> PutObjectResult:
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
            FileWindow(job.fd, 0, size),
            content_type=job.content_type,
            headers=job.headers,
            callback=job.callback,
            callback_vars=job.callback_vars,
            progress=job.progress,
        )
    return _multipart(job, _initiate(job, chosen))


def _usable_checkpoint(job: UploadJob) -> Checkpoint | None:
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


def _multipart(job: UploadJob, checkpoint: Checkpoint) -> PutObjectResult:
    try:
        send_parts(job, checkpoint)
        _check_unchanged(job)
        return _complete(job, checkpoint)
    except (CallbackError, InconsistentError):
        raise  # Complete answered, so the upload id is already spent
    except BaseException:
        if job.store is None:
            with contextlib.suppress(OssError):
                job.bucket.abort_multipart_upload(job.key, checkpoint.upload_id)
        raise


def _initiate(job: UploadJob, part_size: int) -> Checkpoint:
    upload_id = job.bucket.init_multipart_upload(
        job.key, content_type=job.content_type, headers=job.headers
    )
    checkpoint = Checkpoint(
        job.bucket.name, job.key, job.path, upload_id, part_size, job.fingerprint
    )
    job.save(checkpoint)
    return checkpoint


def _resume(job: UploadJob, checkpoint: Checkpoint) -> Checkpoint | PutObjectResult | None:
    """Keep every part ListParts shows holding the file's bytes; None when the upload is gone."""
    try:
        listed = list(job.bucket.list_parts(job.key, checkpoint.upload_id))
    except NoSuchUpload:
        if not checkpoint.missing():
            adopted = _adopt_completed(job, checkpoint)
            if adopted is not None:
                job.forget()
                return adopted
        job.forget()
        return None
    kept = reconcile(checkpoint, listed, job.fd, job.threads)
    if kept != checkpoint.parts:
        checkpoint.parts = kept
        job.save(checkpoint)
    return checkpoint


def _check_unchanged(job: UploadJob) -> None:
    """Parts read from a file that changed mid-upload would assemble into a chimera."""
    if Fingerprint.of(os.stat(job.path)) != job.fingerprint:
        raise ClientError(
            f"{job.path} changed while it was being uploaded; run the upload again to restart it."
        )


def _complete(job: UploadJob, checkpoint: Checkpoint) -> PutObjectResult:
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


def _adopt_completed(job: UploadJob, checkpoint: Checkpoint) -> PutObjectResult | None:
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
