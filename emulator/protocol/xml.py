"""XML in and out: result documents rendered from nested tuples; client XML parsed safely.

Client bodies go through ``defusedxml`` with a size cap, so entity expansion, external entities
and DTDs are refused as ``MalformedXML`` instead of being expanded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union
from urllib.parse import quote
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .errors import BadRequest
from .http import iso8601, parse_uint

# A node is (tag, text) or (tag, [children]); None values are skipped.
Node = tuple[str, Union[str, int, bool, None, "list[Node]"]]

#: The largest XML body read. OSS documents counts, not bytes: 10,000 parts of a
#: CompleteMultipartUpload fit in about 2 MB, and 1,000 DeleteMultipleObjects keys of 1,023
#: bytes, each character escaped as ``&amp;``, in about 6 MB.
MAX_XML_BODY = 4 * 1024 * 1024
MAX_DELETE_BODY = 7 * 1024 * 1024
MAX_DELETE_KEYS = 1000


def render(root: str, children: Iterable[Node]) -> bytes:
    """``render("ListAllMyBucketsResult", [("Owner", [...]), ...])`` -> UTF-8 XML bytes."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _emit(out, (root, list(children)))
    return "".join(out).encode()


def render_text(root: str, text: str) -> bytes:
    """A document whose root holds only text (``<LocationConstraint>oss-cn-hangzhou</…>``)."""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{_escape(text)}</{root}>'.encode()


def _emit(out: list[str], node: Node) -> None:
    tag, value = node
    if value is None:
        return
    if isinstance(value, list):
        out.append(f"<{tag}>")
        for child in value:
            _emit(out, child)
        out.append(f"</{tag}>")
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        out.append(f"<{tag}>{_escape(text)}</{tag}>")


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def encode_key(key: str, encoding_type: str | None) -> str:
    """Keys in listings, URL-encoded when the client asked ``encoding-type=url``."""
    return quote(key, safe="/") if encoding_type == "url" else key


def etag(value: str) -> str:
    return f'"{value}"'


def timestamp(epoch: float) -> str:
    return iso8601(epoch)


def parse(body: bytes, root: str, limit: int = MAX_XML_BODY) -> Element:
    """Parse a client document whose root must be ``root``; anything else is ``MalformedXML``."""
    if len(body) > limit:
        raise BadRequest("MalformedXML")
    try:
        element = SafeET.fromstring(body, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError, UnicodeDecodeError):
        raise BadRequest("MalformedXML") from None
    if element.tag != root:
        raise BadRequest("MalformedXML")
    return element


def parse_complete_parts(body: bytes) -> list[tuple[int, str]]:
    """``<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…`` -> [(number, etag)]."""
    doc = parse(body, "CompleteMultipartUpload")
    parts = []
    for part in doc.findall("Part"):
        number = parse_uint((part.findtext("PartNumber") or "").strip())
        tag = part.findtext("ETag")
        if number is None or tag is None:
            raise BadRequest("MalformedXML")
        parts.append((number, tag.strip()))
    if not parts:
        raise BadRequest("MalformedXML")
    return parts


def parse_delete_keys(body: bytes) -> tuple[list[str], bool]:
    """``<Delete><Quiet/><Object><Key/></Object>…`` -> (keys, quiet)."""
    doc = parse(body, "Delete", MAX_DELETE_BODY)
    keys = [o.findtext("Key") for o in doc.findall("Object")]
    if not keys or any(k is None for k in keys) or len(keys) > MAX_DELETE_KEYS:
        raise BadRequest("MalformedXML")
    quiet = (doc.findtext("Quiet") or "false").strip().lower() == "true"
    return [k for k in keys if k is not None], quiet
