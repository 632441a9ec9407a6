"""What one resumable upload works on: the bucket operations it needs and the call's arguments.

``UploadTarget`` names the bucket methods the resumable modules call, so they depend on this
leaf module instead of on ``Bucket`` (which offers ``resumable_upload`` and so imports them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .body import ProgressCallback
from .bucket_base import guess_content_type
from .callback import Callback
from .checkpoint import Checkpoint, Fingerprint
from .models import CompleteMultipartUploadResult, ObjectMeta, PartResult, PutObjectResult


class UploadTarget(Protocol):
    """The part of :class:`client.Bucket` a resumable upload uses."""

    @property
    def name(self) -> str: ...

    def put_object(
        self,
        key: str,
        data: Any = ...,
        *,
        content_type: str | None = ...,
        headers: Mapping[str, str] | None = ...,
        callback: Callback | None = ...,
        callback_vars: Mapping[str, Any] | None = ...,
        progress: ProgressCallback | None = ...,
    ) -> PutObjectResult: ...

    def head_object(self, key: str) -> ObjectMeta: ...

    def init_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = ...,
        headers: Mapping[str, str] | None = ...,
    ) -> str: ...

    def upload_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        data: Any,
        *,
        progress: ProgressCallback | None = ...,
    ) -> PartResult: ...

    def list_parts(self, key: str, upload_id: str) -> Iterator[PartResult]: ...

    def complete_multipart_upload(
        self,
        key: str,
        upload_id: str,
        parts: list[PartResult],
        *,
        callback: Callback | None = ...,
        callback_vars: Mapping[str, Any] | None = ...,
        headers: Mapping[str, str] | None = ...,
    ) -> CompleteMultipartUploadResult: ...

    def abort_multipart_upload(self, key: str, upload_id: str) -> None: ...


@dataclass(frozen=True)
class UploadJob:
    """What one ``resumable_upload`` call was asked to do, with the file held open as ``fd``."""

    bucket: UploadTarget
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
