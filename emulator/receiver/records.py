"""What the receiver records and how it answers: plain values, no sockets."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_BODY = b'{"Status":"OK"}'
_ATTRIBUTES = ("path", "method", "verified", "rejected")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MISSING = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


@dataclass(frozen=True)
class ReceivedCallback:
    """One request as the receiver saw it; ``form``/``json`` are parsed per Content-Type.

    ``path`` and ``target`` are relative to the URL the test was given (a per-test receiver's
    ``/_t/<token>`` prefix removed); ``wire_target`` is what was sent, and what OSS signed.
    """

    method: str
    path: str
    target: str  # path plus ?query, relative to the receiver's url
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form: dict[str, str] | None
    json: Any | None
    verified: bool
    rejected: str | None
    time: float
    wire_target: str = ""


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = DEFAULT_BODY
    delay: float = 0.0
    content_type: str | None = "application/json"
    content_length: bool | str = True
    headers: dict[str, str] = field(default_factory=dict)


def body_bytes(body: str | bytes | dict[str, Any] | list[Any]) -> bytes:
    """A reply body as sent: ``str`` as UTF-8, ``dict``/``list`` as JSON, ``bytes`` as is."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, dict | list):
        return json.dumps(body).encode("utf-8")
    raise TypeError(f"body must be str, bytes or a dict (sent as JSON), not {type(body).__name__}")


def json_or_none(body: bytes) -> Any | None:
    try:
        return json.loads(body)
    except ValueError:
        return None


def field_of(callback: ReceivedCallback, name: str) -> Any:
    """An attribute, or else a JSON, form or query field of ``callback`` (``MISSING`` if none)."""
    if name in _ATTRIBUTES:
        return getattr(callback, name)
    for source in (callback.json, callback.form, callback.query):
        if isinstance(source, dict) and name in source:
            return source[name]
    return MISSING


def summary(callback: ReceivedCallback) -> str:
    """One console line: ``POST /?user=put_object verified bucket=...`` (control bytes escaped)."""
    verdict = "verified" if callback.verified else f"rejected ({callback.rejected})"
    if not callback.verified and callback.rejected is None:
        verdict = "unverified"
    text = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}", callback.body.decode("utf-8", "replace")
    )
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{callback.method} {callback.target} {verdict} {text}"
