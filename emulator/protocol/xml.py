"""XML in and out: result documents rendered from nested tuples; client XML parsed safely.

Client bodies go through ``defusedxml`` with a size cap, so entity expansion, external entities
and DTDs are refused as ``MalformedXML`` instead of being expanded.
"""

from __future__ import annotations

import re
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
    text = (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
    return _CONTROL.sub(_char_ref, text) if _CONTROL.search(text) else text


# Control characters in keys: CR as ``&#xD;`` (a raw CR would be read back as LF), the ones
# XML 1.0 cannot carry as ``&#x1;`` and so on, as S3-style services render them. A client that
# needs a strict XML 1.0 document asks ``encoding-type=url`` (oss2 and v2 always do).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _char_ref(match: re.Match[str]) -> str:
    return f"&#x{ord(match[0]):X};"


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


def parse_bucket_configuration(body: bytes) -> str | None:
    """PutBucket's ``<CreateBucketConfiguration><StorageClass>`` (None when not given)."""
    text = parse(body, "CreateBucketConfiguration").findtext("StorageClass")
    return text.strip() if text is not None else None


def parse_tagging(body: bytes) -> dict[str, str]:
    """``<Tagging><TagSet><Tag><Key/><Value/></Tag>…`` -> tags (a repeated key is refused by
    the caller's tag rules, so it is kept apart here as a MalformedXML)."""
    tags: dict[str, str] = {}
    for tag in parse(body, "Tagging").findall("TagSet/Tag"):
        key = tag.findtext("Key")
        if key is None or key in tags:
            raise BadRequest("MalformedXML")
        tags[key] = tag.findtext("Value") or ""
    return tags


def render_tagging(tags: dict[str, str]) -> bytes:
    """GetObjectTagging's document."""
    return render(
        "Tagging",
        [("TagSet", [("Tag", [("Key", k), ("Value", v)]) for k, v in tags.items()])],
    )


def parse_delete_keys(body: bytes) -> tuple[list[str], bool]:
    """``<Delete><Quiet/><Object><Key/></Object>…`` -> (keys, quiet); the keys come as they are
    (``encoding-type=url`` is about the answer only)."""
    controls = _CONTROL_IN_BODY.search(body) is not None and _STANDIN.search(body) is None
    if controls:
        body = _CONTROL_IN_BODY.sub(_to_standin, body)
    doc = parse(body, "Delete", MAX_DELETE_BODY)
    keys = [o.findtext("Key") for o in doc.findall("Object")]
    if not keys or any(k is None for k in keys) or len(keys) > MAX_DELETE_KEYS:
        raise BadRequest("MalformedXML")
    quiet = (doc.findtext("Quiet") or "false").strip().lower() == "true"
    found = [k for k in keys if k is not None]
    if controls:
        found = [_STANDINS.sub(lambda m: chr(ord(m[0]) - _STANDIN_BASE), k) for k in found]
    return found, quiet


# Keys holding control characters reach DeleteMultipleObjects raw (oss2's ElementTree writes
# them as they are) or as references XML 1.0 forbids (v2 writes ``&#01;``), and OSS takes both.
# CR is left alone: ``&#13;`` is valid XML, and a raw CR is read as LF, as by any XML parser.
# A strict parser refuses either, so each becomes a stand-in from Plane 15's private use area
# before parsing and is turned back after (a body that already holds stand-ins is parsed as is).
_STANDIN_BASE = 0xF0000
_CONTROL_IN_BODY = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]"
    rb"|&#(?:0*(?:[0-8]|1[124-9]|2[0-9]|3[01])|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]));"
)
_STANDIN = re.compile(  # U+F0000..U+F001F in UTF-8, or as a reference
    rb"\xf3\xb0\x80[\x80-\x9f]|&#(?:[xX]0*[fF]00[01][0-9a-fA-F]|0*(?:9830[4-6][0-9]|98307[01]));"
)
_STANDINS = re.compile("[\U000f0000-\U000f001f]")


def _to_standin(match: re.Match[bytes]) -> bytes:
    text = match[0]
    if text.startswith(b"&#"):
        digits = text[2:-1]
        code = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    else:
        code = text[0]
    return f"&#x{_STANDIN_BASE + code:X};".encode()
