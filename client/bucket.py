"""``Bucket``: one thin method per OSS object operation, all through ``Transport.request``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, overload
from urllib.parse import quote

from .body import ProgressCallback, make_body
from .bucket_base import check_key, guess_content_type, object_headers
from .callback import Callback, callback_headers, carries_callback
from .download import ObjectStream, read_all, write_atomically
from .exceptions import ClientError, NoSuchKey, ServerError
from .models import CommonPrefix, CopyObjectResult, ObjectMeta, ObjectSummary, PutObjectResult
from .multipart import MultipartOperations
from .post_object import PostObjectOperations
from .resumable import resumable_upload
from .xmlutil import Document, build, content_md5

Range = tuple[int | None, int | None]
_DELETE_BATCH = 1000
_SIGNABLE_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")


def _range_header(byte_range: Range) -> str:
    """``(0, 99)`` -> ``bytes=0-99``; ``(100, None)`` -> ``bytes=100-``; ``(None, 50)``: last 50."""
    try:
        start, end = byte_range
    except (TypeError, ValueError):
        raise ClientError("byte_range must be a (start, end) tuple, end inclusive.") from None
    if start is None and end is not None and end > 0:
        return f"bytes=-{end}"
    if start is None or start < 0 or (end is not None and end < start):
        raise ClientError(f"Invalid byte_range {byte_range!r}: need 0 <= start <= end.")
    return f"bytes={start}-{'' if end is None else end}"


class Bucket(MultipartOperations, PostObjectOperations):
    """Operations on the objects of one bucket. Get it from ``Client.get_bucket(name)``."""

    def put_object(
        self,
        key: str,
        data: Any = None,
        *,
        file: str | os.PathLike[str] | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        callback: Callback | None = None,
        callback_vars: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
    ) -> PutObjectResult:
        """Store ``data`` (bytes, str, file object, iterator) or the file at ``file`` as ``key``.

        Streams without reading the whole source; unknown lengths go chunked. With a
        ``callback``, OSS calls the app server after storing; its reply is in
        ``result.callback_body``, and a failed callback raises ``CallbackError`` (the object
        is stored anyway). Requests with a callback are not replayed once sent (see retry).
        """
        check_key(key)
        if file is not None and data is not None:
            raise ClientError("Pass either data or file=, not both.")
        extra = callback_headers(callback, callback_vars)
        request_headers = object_headers(
            content_type or guess_content_type(file, key), metadata, {**(headers or {}), **extra}
        )
        has_callback = carries_callback(request_headers)
        with contextlib.ExitStack() as stack:
            source = stack.enter_context(open(file, "rb")) if file is not None else data
            body = make_body(source, progress)
            if body is None and progress is not None:
                progress(0, 0)
            resp = self._request(
                "PUT", key, headers=request_headers, body=body, has_callback=has_callback
            )
        self._check_upload(body, resp)
        self._raise_if_callback_failed(resp, has_callback)
        return PutObjectResult.from_response(resp, has_callback)

    def resumable_upload(
        self,
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
        """Upload a local file in parallel parts; a later call with the same arguments resumes.

        Files that fit in one part (default 8 MiB, at least 100 KiB, grown to stay within
        10,000 parts) go through ``put_object``. The checkpoint (in ``checkpoint_dir``, default
        ``~/.cache/ossemu/checkpoints``; none with ``checkpoint=False``) is locked against a
        second uploader and removed once Complete answers. Failures keep the parts on OSS for
        the next call; a changed file restarts with a warning. The callback fires once, on
        Complete: its reply is in ``result.callback_body``, a 203 raises ``CallbackError``.
        ``progress(bytes_done, total)`` starts from the bytes already uploaded.
        """
        return resumable_upload(
            self,
            key,
            path,
            part_size=part_size,
            threads=threads,
            checkpoint_dir=checkpoint_dir,
            checkpoint=checkpoint,
            callback=callback,
            callback_vars=callback_vars,
            headers=headers,
            progress=progress,
        )

    @overload
    def get_object(
        self,
        key: str,
        *,
        byte_range: Range | None = ...,
        stream: Literal[False] = ...,
        to_file: None = ...,
    ) -> bytes: ...

    @overload
    def get_object(
        self,
        key: str,
        *,
        byte_range: Range | None = ...,
        stream: Literal[True],
        to_file: None = ...,
    ) -> ObjectStream: ...

    @overload
    def get_object(
        self,
        key: str,
        *,
        byte_range: Range | None = ...,
        stream: Literal[False] = ...,
        to_file: str | os.PathLike[str],
    ) -> ObjectMeta: ...

    def get_object(
        self,
        key: str,
        *,
        byte_range: Range | None = None,
        stream: bool = False,
        to_file: str | os.PathLike[str] | None = None,
    ) -> bytes | ObjectStream | ObjectMeta:
        """The object's bytes; or a streaming reader (``stream=True``, close it or use
        ``with``); or, with ``to_file``, its metadata after writing the file atomically.

        ``byte_range=(start, end)`` is inclusive. Full downloads are CRC-64 verified.
        """
        check_key(key)
        if stream and to_file is not None:
            raise ClientError("Choose stream=True or to_file=, not both.")
        headers = {}
        if byte_range is not None:
            headers["Range"] = _range_header(byte_range)
            # Without this OSS ignores an unsatisfiable range and returns the whole object.
            headers["x-oss-range-behavior"] = "standard"
        resp = self._request("GET", key, headers=headers, stream=True)
        reader = ObjectStream(resp, verify_crc=self.enable_crc and byte_range is None)
        if stream:
            return reader
        if to_file is not None:
            return write_atomically(reader, to_file)
        return read_all(reader)

    def head_object(self, key: str) -> ObjectMeta:
        """All of the object's metadata (HeadObject)."""
        check_key(key)
        return ObjectMeta.from_response(self._request("HEAD", key))

    def get_object_meta(self, key: str) -> ObjectMeta:
        """The cheap subset: ETag, size, Last-Modified (GetObjectMeta)."""
        check_key(key)
        return ObjectMeta.from_response(self._request("HEAD", key, params=[("objectMeta", "")]))

    def object_exists(self, key: str) -> bool:
        """True if the object exists; a missing bucket still raises ``NoSuchBucket``."""
        try:
            self.head_object(key)
        except NoSuchKey:
            return False
        except ServerError as exc:
            if exc.status == 404 and exc.code == "NotFound":
                return False
            raise
        return True

    def delete_object(self, key: str) -> None:
        """Delete one object (no error if it does not exist)."""
        check_key(key)
        self._request("DELETE", key)

    def delete_objects(self, keys: Iterable[str], *, quiet: bool = True) -> list[str]:
        """Delete many objects, 1000 per request; the deleted keys unless ``quiet``."""
        deleted: list[str] = []
        batch: list[str] = []
        for key in keys:
            batch.append(check_key(key))
            if len(batch) == _DELETE_BATCH:
                deleted += self._delete_batch(batch, quiet)
                batch = []
        if batch:
            deleted += self._delete_batch(batch, quiet)
        return deleted

    def _delete_batch(self, keys: list[str], quiet: bool) -> list[str]:
        body = build(
            "Delete",
            [("Quiet", "true" if quiet else "false"), *(("Object", [("Key", k)]) for k in keys)],
        )
        headers = {"Content-Type": "application/xml", "Content-MD5": content_md5(body)}
        resp = self._request(
            "POST", params=[("delete", ""), ("encoding-type", "url")], headers=headers, body=body
        )
        if quiet or not resp.content.strip():
            return []
        return [d.key("Key") for d in Document.parse(resp.content).all("Deleted")]

    def copy_object(
        self,
        src_key: str,
        dst_key: str,
        *,
        src_bucket: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CopyObjectResult:
        """Server-side copy; ``metadata`` replaces the source's metadata, else it is kept."""
        check_key(src_key)
        check_key(dst_key)
        source = f"/{src_bucket or self.name}/{quote(src_key, safe='/~')}"
        request_headers = {"x-oss-copy-source": source}
        if metadata is not None:
            request_headers["x-oss-metadata-directive"] = "REPLACE"
        request_headers = object_headers(None, metadata, {**request_headers, **(headers or {})})
        return CopyObjectResult.from_response(
            self._request("PUT", dst_key, headers=request_headers)
        )

    def list_objects(
        self, prefix: str = "", delimiter: str = "", *, max_keys: int = 1000
    ) -> Iterator[ObjectSummary | CommonPrefix]:
        """Every object (``ObjectSummary``) and, with a delimiter, every ``CommonPrefix``
        under ``prefix``, in key order, following ListObjectsV2 pagination."""
        if not 1 <= max_keys <= 1000:
            raise ClientError("max_keys must be within 1..1000.")
        token = ""
        while True:
            params = [("list-type", "2"), ("max-keys", str(max_keys)), ("encoding-type", "url")]
            params += [(k, v) for k, v in (("prefix", prefix), ("delimiter", delimiter)) if v]
            if token:
                params.append(("continuation-token", token))
            doc = Document.parse(self._request("GET", params=params).content)
            entries: list[ObjectSummary | CommonPrefix] = [
                ObjectSummary(
                    c.key("Key"),
                    c.integer("Size"),
                    (c.text("ETag").strip('"') or None),
                    c.timestamp("LastModified"),
                    c.text("StorageClass") or None,
                    c.text("Type") or None,
                )
                for c in doc.all("Contents")
            ]
            entries += [CommonPrefix(p.key("Prefix")) for p in doc.all("CommonPrefixes")]
            entries.sort(key=lambda e: e.key if isinstance(e, ObjectSummary) else e.prefix)
            yield from entries
            next_token = doc.text("NextContinuationToken")
            if not doc.flag("IsTruncated") or not next_token or next_token == token:
                return
            token = next_token

    def sign_url(
        self,
        method: str,
        key: str,
        expires: int = 3600,
        *,
        headers: Mapping[str, str] | None = None,
        callback: Callback | None = None,
        callback_vars: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> str:
        """A presigned URL in the client's signature version, valid ``expires`` seconds.

        ``headers`` (Content-Type, ``x-oss-*``...) are signed, so the request must send them
        unchanged. A callback travels in the ``callback``/``callback-var`` query parameters.
        """
        check_key(key)
        method = method.upper()
        if method not in _SIGNABLE_METHODS:
            raise ClientError(f"Cannot sign a {method} URL.")
        query = list((params or {}).items())
        if callback is not None:
            query += callback.to_params(callback_vars)
        elif callback_vars:
            raise ClientError("callback_vars need a callback.")
        return self._transport.presign(method, self.name, key, query, headers or {}, expires)
