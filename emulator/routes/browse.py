"""The control API's view of the data: buckets, objects and uploads as JSON, plus download,
delete and abort, for the inspector page and the CLI (``/_ossemu/buckets...``).

These read and change storage directly, never through OSS signatures, so the page works the
same with auth on and with ``--no-auth``; :func:`.control.register` puts each behind the same
guard as every other control endpoint. Errors are JSON ``{"error", "code"}`` with OSS's status.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, BinaryIO
from urllib.parse import quote

from flask import Response, jsonify, request

from ..protocol.errors import OssError
from ..services import services
from ..storage import ObjectMeta, Upload

MAX_PAGE = 1000


def json_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """``view`` with each ``OssError`` answered as JSON (the page shows ``error``)."""

    @functools.wraps(view)
    def answered(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except OssError as error:
            return problem(error.message, error.status, error.code)

    return answered


def problem(message: str, status: int = 400, code: str = "InvalidArgument") -> Response:
    response = jsonify(error=message, code=code)
    response.status_code = status
    return response


def page_size(default: int = 100) -> int:
    """``?limit=``: 1 to :data:`MAX_PAGE` (``OssError`` otherwise)."""
    raw = request.args.get("limit", str(default))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise OssError("InvalidArgument", f"limit must be a number from 1 to {MAX_PAGE}")
    return int(raw)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def buckets() -> Response:
    """Every bucket with its object count and bytes stored."""
    store = services().storage
    found: list[dict[str, Any]] = []
    marker = ""
    while True:
        page, more = store.list_buckets(marker=marker, max_keys=MAX_PAGE)
        for info in page:
            count, size = store.usage(info.name)
            found.append(
                {
                    "name": info.name,
                    "created": _iso(info.created),
                    "region": info.region,
                    "storage_class": info.storage_class,
                    "objects": count,
                    "bytes": size,
                }
            )
        if not more or not page:
            return jsonify(found)
        marker = page[-1].name


def _object(meta: ObjectMeta) -> dict[str, Any]:
    return {
        "key": meta.key,
        "size": meta.size,
        "etag": meta.etag,
        "content_type": meta.content_type,
        "last_modified": _iso(meta.last_modified),
        "type": meta.object_type,
        "acl": meta.acl,
        "storage_class": meta.storage_class,
        "metadata": {k: v for k, v in meta.headers.items() if k.startswith("x-oss-meta-")},
        "tags": meta.tags,
    }


@json_errors
def objects(bucket: str) -> Response:
    """A page of ``bucket``'s keys under ``?prefix=``, folded at ``?delimiter=`` (default
    ``/``: folders), after ``?marker=``; ``next_marker`` is null on the last page."""
    page = services().storage.list_objects(
        bucket,
        prefix=request.args.get("prefix", ""),
        marker=request.args.get("marker", ""),
        delimiter=request.args.get("delimiter", "/"),
        max_keys=page_size(),
    )
    return jsonify(
        objects=[_object(meta) for meta in page.objects],
        prefixes=page.common_prefixes,
        next_marker=page.next_marker if page.is_truncated else None,
    )


@json_errors
def an_object(bucket: str) -> Response:
    """GET: the bytes of ``?key=`` as a download; DELETE: delete it."""
    key = request.args.get("key")
    if not key:
        return problem("key is required")
    store = services().storage
    if request.method == "DELETE":
        if not store.delete_object(bucket, key):
            raise OssError("NoSuchKey")
        return Response(status=204)
    meta, data = store.open_object(bucket, key)
    name = key.rsplit("/", 1)[-1] or "object"
    disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    return Response(
        _chunks(data),
        content_type=meta.content_type or "application/octet-stream",
        headers={"Content-Length": str(meta.size), "Content-Disposition": disposition},
        direct_passthrough=True,
    )


def _chunks(data: BinaryIO) -> Iterator[bytes]:
    with data:
        while chunk := data.read(1 << 16):
            yield chunk


def _upload(upload: Upload) -> dict[str, Any]:
    parts = services().storage.list_parts(
        upload.bucket, upload.key, upload.upload_id, marker=0, max_parts=MAX_PAGE
    )
    return {
        "upload_id": upload.upload_id,
        "key": upload.key,
        "initiated": _iso(upload.initiated),
        "parts": [{"number": p.part_number, "size": p.size, "etag": p.etag} for p in parts.parts],
        "more_parts": parts.is_truncated,
    }


@json_errors
def uploads(bucket: str) -> Response:
    """Multipart uploads in progress (a page, after ``?key_marker=&upload_id_marker=``)."""
    page = services().storage.list_multipart_uploads(
        bucket,
        prefix=request.args.get("prefix", ""),
        delimiter="",
        key_marker=request.args.get("key_marker", ""),
        upload_id_marker=request.args.get("upload_id_marker", ""),
        max_uploads=page_size(),
    )
    return jsonify(
        uploads=[_upload(upload) for upload in page.uploads],
        next=(
            {"key_marker": page.next_key_marker, "upload_id_marker": page.next_upload_id_marker}
            if page.is_truncated
            else None
        ),
    )


@json_errors
def abort_upload(bucket: str, upload_id: str) -> Response:
    """Abort upload ``upload_id`` of ``?key=`` (DELETE)."""
    key = request.args.get("key")
    if not key:
        return problem("key is required")
    services().storage.abort_multipart_upload(bucket, key, upload_id)
    return Response(status=204)
