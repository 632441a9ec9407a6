"""Upload callbacks: the ``x-oss-callback`` / ``x-oss-callback-var`` values, built and checked.

Shaped like the Ruby SDK's ``Callback`` (url, query, body, content_type, host), with what it
lacked: callback variables, SNI, several URLs, no stray ``?`` and ``%20`` instead of ``+``.
The JSON keys keep Ruby's order so the serialised header matches its published vector.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from .exceptions import ClientError

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_URLS = 5
# OSS rejects either header above 5 KB (EC 0007-00000101).
MAX_HEADER_BYTES = 5 * 1024


def _b64_json(value: Mapping[str, Any]) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


def _check_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ClientError("Callback URL must not be empty.")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ClientError("Only HTTP and HTTPS endpoint are accepted.")
    if parts.query or url.endswith("?"):
        raise ClientError(
            "Query parameters should not appear in URL. Pass them as Callback(query={...})."
        )
    if parts.fragment or not parts.hostname:
        raise ClientError(f"Invalid callback URL {url!r}.")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise ClientError(f"Invalid callback URL {url!r}: {exc}") from exc
    return url


def _encode_query(query: Mapping[str, Any]) -> str:
    return "&".join(
        f"{quote(str(k), safe='')}={quote(_text(v), safe='')}" for k, v in query.items()
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Callback:
    """What OSS should POST to the app server(s) once the upload is stored.

    ``url`` is one URL, several joined by ``;`` or a list (at most 5, tried in order);
    ``query`` is appended to each one. ``body`` is the template (``${bucket}``, ``${object}``,
    ``${etag}``, ``${size}``, ``${mimeType}``, ``${crc64}``, ``${x:var}``...).
    """

    url: str | Sequence[str]
    query: Mapping[str, Any] | None = None
    body: str = "bucket=${bucket}&object=${object}"
    content_type: str = FORM
    host: str | None = None
    sni: bool | None = None
    urls: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = self.url.split(";") if isinstance(self.url, str) else list(self.url)
        urls = [_check_url(u) for u in raw]
        if len(urls) > MAX_URLS:
            raise ClientError(f"At most {MAX_URLS} callback URLs are allowed, got {len(urls)}.")
        if self.query:
            urls = [f"{u}?{_encode_query(self.query)}" for u in urls]
        if not self.body:
            raise ClientError("Callback body must not be empty.")
        if self.content_type not in (FORM, JSON):
            raise ClientError(f"Callback content_type must be {FORM!r} or {JSON!r}.")
        if self.sni is not None and not isinstance(self.sni, bool):
            raise ClientError("Callback sni must be True or False.")
        object.__setattr__(self, "urls", tuple(urls))

    @classmethod
    def json(cls, url: str | Sequence[str], fields: Mapping[str, str], **kwargs: Any) -> Callback:
        """A JSON-body callback: ``{"size": "size", "v": "x:v"}`` -> ``{"size":${size},...}``.

        Values name variables (``bucket``, ``x:my_var``, or already ``${...}``); OSS fills them
        in as JSON values, so the template leaves them unquoted.
        """
        if not fields:
            raise ClientError("Callback.json needs at least one field.")
        items = []
        for name, variable in fields.items():
            placeholder = variable if variable.startswith("${") else "${" + variable + "}"
            items.append(f"{json.dumps(name, ensure_ascii=False)}:{placeholder}")
        return cls(url, body="{" + ",".join(items) + "}", content_type=JSON, **kwargs)

    @property
    def callback_url(self) -> str:
        """The ``callbackUrl`` value: the URLs with their query, joined by ``;``."""
        return ";".join(self.urls)

    def to_dict(self) -> dict[str, Any]:
        """The callback JSON, keys in Ruby's order (callbackUrl, Body, BodyType, Host, SNI)."""
        value: dict[str, Any] = {
            "callbackUrl": self.callback_url,
            "callbackBody": self.body,
            "callbackBodyType": self.content_type,
        }
        if self.host:
            value["callbackHost"] = self.host
        if self.sni is not None:
            value["callbackSNI"] = self.sni
        return value

    def serialize(self) -> str:
        """The ``x-oss-callback`` value: strict base64 of the compact JSON."""
        encoded = _b64_json(self.to_dict())
        if len(encoded) > MAX_HEADER_BYTES:
            raise ClientError(f"The encoded callback is {len(encoded)} bytes; OSS allows 5 KB.")
        return encoded

    def to_headers(self, callback_vars: Mapping[str, Any] | None = None) -> dict[str, str]:
        """``x-oss-callback`` and, when there are variables, ``x-oss-callback-var``."""
        headers = {"x-oss-callback": self.serialize()}
        if callback_vars:
            headers["x-oss-callback-var"] = encode_callback_vars(callback_vars)
        return headers

    def to_params(self, callback_vars: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """The same values as ``callback`` / ``callback-var`` query parameters (signed URLs)."""
        return [
            (name.removeprefix("x-oss-"), value)
            for name, value in self.to_headers(callback_vars).items()
        ]


def encode_callback_vars(callback_vars: Mapping[str, Any]) -> str:
    """``{"a": 1}`` or ``{"x:a": "1"}`` -> base64 of ``{"x:a":"1"}``; names must be lower-case."""
    normalised: dict[str, str] = {}
    for name, value in callback_vars.items():
        if not isinstance(name, str) or not name:
            raise ClientError(f"Invalid callback variable name {name!r}.")
        key = name if name.startswith("x:") else f"x:{name}"
        if key != key.lower() or len(key) == 2:
            raise ClientError(
                f"Invalid callback variable name {name!r}: OSS requires lower-case names."
            )
        normalised[key] = _text(value)
    encoded = _b64_json(normalised)
    if len(encoded) > MAX_HEADER_BYTES:
        raise ClientError(f"The encoded callback variables are {len(encoded)} bytes; max 5 KB.")
    return encoded


def callback_headers(
    callback: Callback | None, callback_vars: Mapping[str, Any] | None
) -> dict[str, str]:
    """Headers for an upload request; variables without a callback are a caller mistake."""
    if callback is None:
        if callback_vars:
            raise ClientError("callback_vars need a callback.")
        return {}
    if not isinstance(callback, Callback):
        raise ClientError(f"callback must be a Callback, not {type(callback).__name__}.")
    return callback.to_headers(callback_vars)


def carries_callback(headers: Mapping[str, str]) -> bool:
    """Whether a request asks OSS for an upload callback (however the header was set)."""
    return any(k.lower() == "x-oss-callback" for k in headers)
