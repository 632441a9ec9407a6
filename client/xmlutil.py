"""Small helpers for OSS's namespace-free XML documents (parsed with defusedxml)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from .exceptions import OssError


class Document:
    """A parsed response document with typed field access."""

    def __init__(self, element: Element, url_encoded: bool = False) -> None:
        self.element = element
        self.url_encoded = url_encoded

    @classmethod
    def parse(cls, body: bytes) -> Document:
        """Parse a response body; ``<EncodingType>url</EncodingType>`` switches on decoding."""
        try:
            root = ElementTree.fromstring(body)
        except Exception as exc:
            raise OssError(f"Unexpected response document: {body[:200]!r}") from exc
        for element in root.iter():
            if isinstance(element.tag, str) and "}" in element.tag:
                element.tag = element.tag.split("}", 1)[1]
        return cls(root, (root.findtext("EncodingType") or "").lower() == "url")

    def text(self, path: str, default: str = "") -> str:
        """Text of the first ``path`` match, or ``default``."""
        value = self.element.findtext(path)
        return default if value is None else value

    def key(self, path: str, default: str = "") -> str:
        """A key-like field, URL-decoded when the response says it is encoded."""
        value = self.text(path, default)
        return unquote(value) if self.url_encoded else value

    def integer(self, path: str, default: int = 0) -> int:
        """An integer field."""
        value = self.text(path)
        return int(value) if value.strip() else default

    def optional_int(self, path: str) -> int | None:
        """An integer field that may be absent."""
        value = self.text(path).strip()
        return int(value) if value.isdigit() else None

    def flag(self, path: str) -> bool:
        """``true``/``false``."""
        return self.text(path).strip().lower() == "true"

    def timestamp(self, path: str) -> datetime | None:
        """An ISO-8601 timestamp such as ``2012-02-23T07:01:34.000Z``."""
        return parse_iso(self.text(path))

    def all(self, path: str) -> list[Document]:
        """Every match of ``path`` as a sub-document (sharing the URL-encoding flag)."""
        return [Document(e, self.url_encoded) for e in self.element.findall(path)]


def parse_iso(value: str) -> datetime | None:
    """``2012-02-23T07:01:34.000Z`` -> aware datetime; None when empty or malformed."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_http_date(value: str | None) -> datetime | None:
    """``Sat, 12 Dec 2015 00:35:54 GMT`` -> aware datetime; None when absent or malformed."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def build(root: str, children: list[tuple[str, Any]]) -> bytes:
    """Serialise ``<root><a>1</a><b><c>2</c></b></root>`` from nested (tag, value) pairs."""

    def render(items: list[tuple[str, Any]]) -> str:
        out = []
        for tag, value in items:
            inner = render(value) if isinstance(value, list) else escape(str(value))
            out.append(f"<{tag}>{inner}</{tag}>")
        return "".join(out)

    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{render(children)}</{root}>'.encode()


def content_md5(body: bytes) -> str:
    """base64 MD5, the ``Content-MD5`` header value."""
    return base64.b64encode(hashlib.md5(body).digest()).decode()
