"""Every error the SDK raises, in one shallow tree::

    OssError
     ├── ClientError (also ValueError)   bad arguments, caught before anything is sent
     ├── RequestError                    transport failure; ``cause`` is the original exception
     ├── InconsistentError               CRC-64 of what was sent/received != the server's value
     └── ServerError                     an OSS ``<Error>`` response (status, code, message, ...)
          ├── CallbackError              HTTP 203: the object IS stored, the app callback failed
          └── NoSuchBucket, NoSuchKey, NoSuchUpload, AccessDenied, SignatureDoesNotMatch,
              InvalidAccessKeyId, BucketAlreadyExists, BucketNotEmpty, InvalidArgument,
              PreconditionFailed, InvalidDigest, ...   (one class per common ``Code``)

``ServerError.from_response(resp)`` picks the subclass from the ``Code`` via one table; a HEAD
error has no body, so its ``<Error>`` document is decoded from the base64 ``x-oss-err`` header.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from defusedxml import ElementTree

_MAX_BODY = 64 * 1024


class OssError(Exception):
    """Base of every SDK error."""


class ClientError(OssError, ValueError):
    """The call cannot be made as asked (bad argument, missing credentials...)."""


class RequestError(OssError):
    """The request did not complete at the transport level (DNS, connect, reset, timeout)."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class InconsistentError(OssError):
    """Data corrupted in transit: the client's CRC-64 differs from the server's."""

    def __init__(self, client_crc: int, server_crc: int, request_id: str | None = None) -> None:
        super().__init__(
            f"CRC-64 mismatch: client {client_crc}, server {server_crc} (request id {request_id})"
        )
        self.client_crc = client_crc
        self.server_crc = server_crc
        self.request_id = request_id


class _ResponseLike(Protocol):
    status_code: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...


class ServerError(OssError):
    """OSS answered with an error document."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str = "",
        *,
        request_id: str | None = None,
        host_id: str | None = None,
        ec: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        details: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.host_id = host_id
        self.ec = ec
        self.headers: Mapping[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.body = body
        self.details: Mapping[str, str] = dict(details or {})
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.code}: {self.message}" if self.message else self.code
        extra = [f"status {self.status}", f"request id {self.request_id}"]
        if self.ec:
            extra.append(f"ec {self.ec}")
        return f"{text} ({', '.join(extra)})"

    @classmethod
    def from_response(cls, resp: _ResponseLike) -> ServerError:
        """Build the right subclass from an HTTP response (XML, JSON or body-less HEAD)."""
        headers = {k.lower(): v for k, v in resp.headers.items()}
        body = resp.content[:_MAX_BODY] if resp.content else b""
        fields = _parse_error_document(body, headers.get("content-type", ""))
        if not fields and headers.get("x-oss-err"):
            try:
                fields = _parse_error_document(base64.b64decode(headers["x-oss-err"]), "")
            except (binascii.Error, ValueError):
                fields = {}
        code = fields.pop("Code", "") or _code_for_status(resp.status_code)
        error_class = _BY_CODE.get(code, ServerError)
        if resp.status_code == 203:
            error_class = CallbackError
        return error_class(
            resp.status_code,
            code,
            fields.pop("Message", ""),
            request_id=fields.pop("RequestId", None) or headers.get("x-oss-request-id"),
            host_id=fields.pop("HostId", None),
            ec=fields.pop("EC", None) or headers.get("x-oss-ec"),
            headers=headers,
            body=body,
            details=fields,
        )


class CallbackError(ServerError):
    """HTTP 203 ``CallbackFailed``: the upload succeeded, the app server's callback did not.

    The object is stored; ``etag``/``crc64``/``version_id`` describe it.
    """

    upload_succeeded = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.etag: str | None = _unquote(self.headers.get("etag"))
        crc = self.headers.get("x-oss-hash-crc64ecma")
        self.crc64: int | None = int(crc) if crc and crc.isdigit() else None
        self.version_id: str | None = self.headers.get("x-oss-version-id")


class NoSuchBucket(ServerError):
    """404: the bucket does not exist."""


class NoSuchKey(ServerError):
    """404: the object does not exist."""


class NoSuchUpload(ServerError):
    """404: the multipart upload id is unknown, completed or aborted."""


class AccessDenied(ServerError):
    """403: the credentials may not do this."""


class SignatureDoesNotMatch(ServerError):
    """403: wrong secret, clock or canonicalisation (``details`` may hold ``StringToSign``)."""


class InvalidAccessKeyId(ServerError):
    """403: the access key id is unknown."""


class RequestTimeTooSkewed(ServerError):
    """403: the local clock is more than 15 minutes off the server's."""


class BucketAlreadyExists(ServerError):
    """409: the bucket name is taken."""


class BucketNotEmpty(ServerError):
    """409: delete the objects (and multipart uploads) first."""


class InvalidArgument(ServerError):
    """400: a parameter or header was rejected (``details`` may name it)."""


class InvalidBucketName(ServerError):
    """400: the bucket name breaks OSS naming rules."""


class InvalidObjectName(ServerError):
    """400: the key breaks OSS naming rules."""


class InvalidDigest(ServerError):
    """400: the Content-MD5 does not match the body."""


class MalformedXML(ServerError):
    """400: the request XML was not accepted."""


class InvalidPart(ServerError):
    """400: a part in Complete is missing or its ETag differs."""


class InvalidPartOrder(ServerError):
    """400: parts in Complete are not in ascending order."""


class EntityTooSmall(ServerError):
    """400: a non-last part is below the minimum part size."""


class PreconditionFailed(ServerError):
    """412: an ``If-*`` condition did not hold."""


class InvalidRange(ServerError):
    """416: the requested byte range is outside the object."""


_BY_CODE: dict[str, type[ServerError]] = {
    cls.__name__: cls
    for cls in (
        NoSuchBucket,
        NoSuchKey,
        NoSuchUpload,
        AccessDenied,
        SignatureDoesNotMatch,
        InvalidAccessKeyId,
        RequestTimeTooSkewed,
        BucketAlreadyExists,
        BucketNotEmpty,
        InvalidArgument,
        InvalidBucketName,
        InvalidObjectName,
        InvalidDigest,
        MalformedXML,
        InvalidPart,
        InvalidPartOrder,
        EntityTooSmall,
        PreconditionFailed,
        InvalidRange,
    )
}
_BY_CODE["CallbackFailed"] = CallbackError


def _code_for_status(status: int) -> str:
    """A stand-in code when the server sent no document at all."""
    return {
        203: "CallbackFailed",
        404: "NotFound",
        403: "AccessDenied",
        412: "PreconditionFailed",
    }.get(status, f"HTTP{status}")


def _parse_error_document(body: bytes, content_type: str) -> dict[str, str]:
    """Flatten ``<Error>`` (or a JSON error) into ``{"Code": ..., "Message": ..., ...}``."""
    if not body.strip():
        return {}
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        data = data.get("Error", data) if isinstance(data, dict) else {}
        return {str(k): str(v) for k, v in data.items() if not isinstance(v, dict | list)}
    try:
        root = ElementTree.fromstring(body)
    except Exception:  # noqa: BLE001 - truncated or invalid XML: salvage the main fields
        return {
            name: match.group(1).decode(errors="replace")
            for name in ("Code", "Message", "RequestId", "HostId", "EC")
            if (match := re.search(rf"<{name}>(.*?)</{name}>".encode(), body, re.S))
        }
    return {child.tag: (child.text or "") for child in root if len(child) == 0}


def _unquote(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None
