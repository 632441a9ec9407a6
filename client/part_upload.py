"""Sending a resumable upload's missing parts in parallel, recording each as it lands."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from .body import FileWindow, ProgressReporter
from .checkpoint import Checkpoint
from .models import PartResult
from .upload_job import UploadJob

#: Seconds between checkpoint rewrites while parts land (always rewritten at the end).
SAVE_INTERVAL = 1.0


def send_parts(job: UploadJob, checkpoint: Checkpoint) -> None:
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
    job: UploadJob, checkpoint: Checkpoint, number: int, reporter: ProgressReporter
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
        FileWindow(job.fd, offset, length),
        progress=on_progress,
    )
