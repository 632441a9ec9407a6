"""PostObject forms, signed by the app server for a browser's direct upload, and sent from Python.

The app server calls ``bucket.post_object_form(...)`` and hands ``form.url`` and ``form.fields``
to the page, which POSTs them as ``multipart/form-data`` with the file last. The policy pins the
bucket, the key (exact or by prefix), the size range and, when given, the callback and its
``x:`` variables, so the browser cannot change them. Signing is one pure function per version:

* V1: ``Signature = base64(HMAC-SHA1(secret, policy_b64))``;
* V4: ``x-oss-signature = hex(HMAC-SHA256(v4_signing_key(secret, day, region), policy_b64))``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .auth import V4_ALGORITHM, Credentials, v1_signature, v4_scope, v4_signature, v4_signing_key
from .callback import Callback, encode_callback_vars
from .exceptions import ClientError

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PostObjectForm:
    """Where to POST (``url``) and every field to send before the ``file`` field, in order."""

    url: str
    fields: dict[str, str]
    #: The decoded policy document, for display and tests.
    policy: dict[str, Any]

    @property
    def has_callback(self) -> bool:
        return "callback" in self.fields


def post_policy(
    bucket: str,
    *,
    key: str | None,
    key_prefix: str | None,
    expiration: datetime,
    content_length_range: tuple[int, int] | None = None,
    fields: Mapping[str, str] | None = None,
    conditions: Sequence[Any] = (),
) -> dict[str, Any]:
    """The policy document: the bucket, the key, the size, every given field pinned exactly."""
    items: list[Any] = [{"bucket": bucket}]
    if key is not None:
        items.append(["eq", "$key", key])
    if key_prefix is not None:
        items.append(["starts-with", "$key", key_prefix])
    if content_length_range is not None:
        low, high = content_length_range
        if not 0 <= low <= high:
            raise ClientError("content_length_range must be (min, max) with 0 <= min <= max.")
        items.append(["content-length-range", int(low), int(high)])
    items += [["eq", f"${name}", value] for name, value in (fields or {}).items()]
    items += list(conditions)
    stamp = expiration.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"expiration": stamp, "conditions": items}


def encode_policy(policy: Mapping[str, Any]) -> str:
    """The ``policy`` field: base64 of the compact UTF-8 JSON (the string that gets signed)."""
    text = json.dumps(policy, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


def sign_v1(credentials: Credentials, policy_b64: str) -> dict[str, str]:
    """The V1 signature fields for an encoded policy."""
    return {
        "OSSAccessKeyId": credentials.access_key_id,
        "Signature": v1_signature(credentials.access_key_secret, policy_b64),
    }


def sign_v4(
    credentials: Credentials, policy_b64: str, region: str, now: datetime
) -> dict[str, str]:
    """The V4 signature fields (``x-oss-credential``, ``x-oss-date`` also go in the policy)."""
    day = now.astimezone(timezone.utc).strftime("%Y%m%d")
    key = v4_signing_key(credentials.access_key_secret, day, region)
    return {"x-oss-signature": v4_signature(key, policy_b64)}


def v4_fields(credentials: Credentials, region: str, now: datetime) -> dict[str, str]:
    """The V4 fields the policy pins before it is signed."""
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return {
        "x-oss-signature-version": V4_ALGORITHM,
        "x-oss-credential": f"{credentials.access_key_id}/{v4_scope(stamp[:8], region)}",
        "x-oss-date": stamp,
    }


def build_form(
    url: str,
    bucket: str,
    credentials: Credentials,
    *,
    version: str,
    region: str,
    now: datetime,
    key: str | None = None,
    key_prefix: str | None = None,
    expires: int = 3600,
    content_length_range: tuple[int, int] | None = None,
    success_action_status: int | None = None,
    success_action_redirect: str | None = None,
    callback: Callback | None = None,
    callback_vars: Mapping[str, Any] | None = None,
    fields: Mapping[str, str] | None = None,
    conditions: Iterable[Any] = (),
) -> PostObjectForm:
    """Sign a form; see :meth:`ossemu.client.Bucket.post_object_form` for the arguments."""
    if version not in ("v1", "v4"):
        raise ClientError(f"signature_version must be 'v1' or 'v4', not {version!r}.")
    if key is None and key_prefix is None:
        raise ClientError("Pass key= (exact) or key_prefix= (a starts-with condition).")
    if key is not None and key_prefix is not None and not key.startswith(key_prefix):
        raise ClientError("key must start with key_prefix.")
    if expires <= 0:
        raise ClientError("expires must be a positive number of seconds.")
    pinned: dict[str, str] = {}
    if success_action_status is not None:
        if success_action_status not in (200, 201, 204):
            raise ClientError("success_action_status must be 200, 201 or 204.")
        pinned["success_action_status"] = str(success_action_status)
    if success_action_redirect is not None:
        if not success_action_redirect.startswith(("http://", "https://")):
            raise ClientError("success_action_redirect must be an http(s) URL.")
        pinned["success_action_redirect"] = success_action_redirect
    if callback is not None:
        if not isinstance(callback, Callback):
            raise ClientError(f"callback must be a Callback, not {type(callback).__name__}.")
        pinned["callback"] = callback.serialize()
        if callback_vars:
            decoded = json.loads(base64.b64decode(encode_callback_vars(callback_vars)))
            pinned.update(decoded)
    elif callback_vars:
        raise ClientError("callback_vars need a callback.")
    pinned.update(fields or {})
    if credentials.security_token:
        pinned["x-oss-security-token"] = credentials.security_token
    if version == "v4":
        pinned.update(v4_fields(credentials, region, now))
    policy = post_policy(
        bucket,
        key=key,
        key_prefix=key_prefix,
        expiration=now + timedelta(seconds=expires),
        content_length_range=content_length_range,
        fields=pinned,
        conditions=list(conditions),
    )
    encoded = encode_policy(policy)
    out = {"key": key if key is not None else f"{key_prefix}${{filename}}", "policy": encoded}
    out.update(pinned)
    if version == "v1":
        out.update(sign_v1(credentials, encoded))
    else:
        out.update(sign_v4(credentials, encoded, region, now))
    return PostObjectForm(url, out, policy)


class FormBody:
    """A multipart/form-data body streamed from the fields and a file (or bytes), with a
    known length, so ``requests`` sends Content-Length and reads it piece by piece."""

    def __init__(self, fields: Mapping[str, str], data: Any, filename: str, content_type: str):
        self.boundary = f"ossemu-{uuid.uuid4().hex}"
        head = b"".join(
            self._part(name, None, None) + value.encode() + b"\r\n"
            for name, value in fields.items()
        )
        head += self._part("file", filename, content_type)
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._source, size = _source(data)
        self._pieces = [io.BytesIO(head), self._source, io.BytesIO(tail)]
        self.length = len(head) + size + len(tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _part(self, name: str, filename: str | None, content_type: str | None) -> bytes:
        disposition = f'form-data; name="{_quoted(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quoted(filename)}"'
        head = f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        return (head + "\r\n").encode()

    def __len__(self) -> int:
        return self.length

    def read(self, size: int | None = -1) -> bytes:
        want = _CHUNK if size is None or size < 0 else max(size, _CHUNK)
        while self._pieces:
            chunk = self._pieces[0].read(want)
            if chunk:
                return bytes(chunk)
            self._pieces.pop(0)
        return b""


def _quoted(text: str) -> str:
    if any(ch in text for ch in '"\r\n'):
        raise ClientError(
            f"Form field names and file names cannot hold quotes or newlines: {text!r}"
        )
    return text


def _source(data: Any) -> tuple[Any, int]:
    """A readable for ``data`` (bytes, str or a seekable binary file) and its remaining size."""
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(data)), len(data)
    if hasattr(data, "read") and hasattr(data, "seek"):
        start = data.tell()
        size = data.seek(0, os.SEEK_END) - start
        data.seek(start)
        return data, size
    raise ClientError("post_object needs bytes, str or a seekable binary file.")
