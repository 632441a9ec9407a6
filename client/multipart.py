"""Low-level multipart calls (Initiate, UploadPart, Complete, Abort, ListParts, ListUploads).

The resumable uploader builds on these; Complete carries the callback, like PutObject.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .body import ProgressCallback, make_body
from .bucket_base import BucketBase, check_key, guess_content_type, object_headers
from .callback import Callback, callback_headers, carries_callback
from .exceptions import ClientError
from .models import CompleteMultipartUploadResult, MultipartUpload, PartResult, unquote_etag
from .xmlutil import Document, build, content_md5

MAX_PARTS = 10000


def _part_list(parts: Iterable[PartResult | tuple[int, str]]) -> list[PartResult]:
    """Parts sorted by number; duplicates and bad numbers are caller mistakes."""
    out: dict[int, PartResult] = {}
    for part in parts:
        item = part if isinstance(part, PartResult) else PartResult(int(part[0]), str(part[1]))
        if not 1 <= item.number <= MAX_PARTS:
            raise ClientError(f"Part number {item.number} is outside 1..{MAX_PARTS}.")
        if item.number in out:
            raise ClientError(f"Part number {item.number} is listed twice.")
        out[item.number] = item
    return [out[n] for n in sorted(out)]


class MultipartOperations(BucketBase):
    """Multipart upload calls of :class:`client.Bucket`."""

    def init_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Start a multipart upload and return its upload id."""
        check_key(key)
        request_headers = object_headers(content_type or guess_content_type(key), metadata, headers)
        resp = self._request("POST", key, params=[("uploads", "")], headers=request_headers)
        upload_id = Document.parse(resp.content).text("UploadId")
        if not upload_id:
            raise ClientError("InitiateMultipartUpload returned no UploadId.")
        return upload_id

    def upload_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        data: Any,
        *,
        progress: ProgressCallback | None = None,
    ) -> PartResult:
        """Upload one part (bytes, str, a file object or an iterator); CRC-64 verified."""
        check_key(key)
        if not 1 <= part_number <= MAX_PARTS:
            raise ClientError(f"part_number must be within 1..{MAX_PARTS}, not {part_number}.")
        body = make_body(data, progress)
        resp = self._request(
            "PUT",
            key,
            params=[("partNumber", str(part_number)), ("uploadId", upload_id)],
            body=body,
        )
        self._check_upload(body, resp)
        etag = unquote_etag(resp.headers.get("ETag"))
        if not etag:
            raise ClientError("UploadPart returned no ETag header.")
        return PartResult(
            part_number,
            etag,
            body.sent if body is not None else 0,
            body.crc.value if body is not None else 0,
        )

    def complete_multipart_upload(
        self,
        key: str,
        upload_id: str,
        parts: Iterable[PartResult | tuple[int, str]],
        *,
        callback: Callback | None = None,
        callback_vars: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CompleteMultipartUploadResult:
        """Assemble the parts into the object; a failed callback raises ``CallbackError``."""
        check_key(key)
        part_list = _part_list(parts)
        request_headers = dict(headers or {})
        complete_all = any(
            k.lower() == "x-oss-complete-all" and v.lower() == "yes"
            for k, v in request_headers.items()
        )
        body: bytes | None = None
        if not complete_all:
            if not part_list:
                raise ClientError("complete_multipart_upload needs at least one part.")
            body = build(
                "CompleteMultipartUpload",
                [("Part", [("PartNumber", p.number), ("ETag", f'"{p.etag}"')]) for p in part_list],
            )
            request_headers.update(
                {"Content-Type": "application/xml", "Content-MD5": content_md5(body)}
            )
        request_headers.update(callback_headers(callback, callback_vars))
        has_callback = carries_callback(request_headers)
        resp = self._request(
            "POST",
            key,
            params=[("uploadId", upload_id), ("encoding-type", "url")],
            headers=request_headers,
            body=body,
            has_callback=has_callback,
        )
        self._check_combined(part_list, resp)
        self._raise_if_callback_failed(resp, has_callback)
        return CompleteMultipartUploadResult.from_response(resp, has_callback)

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Cancel the upload and discard its parts."""
        check_key(key)
        self._request("DELETE", key, params=[("uploadId", upload_id)])

    def list_parts(
        self, key: str, upload_id: str, *, max_parts: int = 1000
    ) -> Iterator[PartResult]:
        """Every uploaded part in number order, following pagination."""
        check_key(key)
        marker = ""
        while True:
            params = [("uploadId", upload_id), ("max-parts", str(max_parts))]
            if marker:
                params.append(("part-number-marker", marker))
            doc = Document.parse(self._request("GET", key, params=params).content)
            for part in doc.all("Part"):
                yield PartResult(
                    part.integer("PartNumber"),
                    unquote_etag(part.text("ETag")) or "",
                    part.optional_int("Size"),
                    part.optional_int("HashCrc64ecma"),
                    part.timestamp("LastModified"),
                )
            next_marker = doc.text("NextPartNumberMarker")
            if not doc.flag("IsTruncated") or not next_marker or next_marker == marker:
                return
            marker = next_marker

    def list_multipart_uploads(
        self, prefix: str = "", *, max_uploads: int = 1000
    ) -> Iterator[MultipartUpload]:
        """Every in-progress upload (by key, then upload id), following pagination."""
        key_marker = upload_id_marker = ""
        while True:
            params = [("uploads", ""), ("max-uploads", str(max_uploads)), ("encoding-type", "url")]
            if prefix:
                params.append(("prefix", prefix))
            if key_marker:
                params.append(("key-marker", key_marker))
            if upload_id_marker:
                params.append(("upload-id-marker", upload_id_marker))
            doc = Document.parse(self._request("GET", params=params).content)
            for upload in doc.all("Upload"):
                yield MultipartUpload(
                    upload.key("Key"), upload.text("UploadId"), upload.timestamp("Initiated")
                )
            next_markers = (doc.key("NextKeyMarker"), doc.text("NextUploadIdMarker"))
            if not doc.flag("IsTruncated") or next_markers == (key_marker, upload_id_marker):
                return
            key_marker, upload_id_marker = next_markers
