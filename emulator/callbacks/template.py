"""Render ``callbackBody`` for one upload by substituting its ``${...}`` variables.

Form bodies (``application/x-www-form-urlencoded``) get each value percent-encoded per RFC 3986 -
everything but ``A-Z a-z 0-9 - _ . ~`` - so ``text/plain`` becomes ``text%2Fplain`` and a space
``%20``; the template text around the variables is sent verbatim. JSON bodies get JSON literals, as
real OSS output shows: ``size``, ``crc64`` and ``imageInfo.height``/``width`` as bare numbers,
everything else as quoted, escaped strings, and an empty value as ``null``.

Undefined custom variables (``${x:nope}``) and unknown names (``${nope}``) render like OSS's empty
system variables: ``""`` in form bodies, ``null`` in JSON. Only the exact ``${name}`` syntax is a
variable; ``$(name)`` or a percent-encoded ``%24%7Bbucket%7D`` stays literal text.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

from PIL import Image

from .spec import FORM_TYPE, CallbackSpec

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# Pillow format -> the name OSS reports in ${imageInfo.format}.
_IMAGE_FORMATS = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tiff",
}

# MPO (multi-picture JPEG) comes out of the JPEG opener; it has none of its own.
_OPENERS = [name for name in _IMAGE_FORMATS if name != "MPO"]


@dataclass(frozen=True)
class CallbackContext:
    """What the upload produced: the values behind the system variables."""

    bucket: str
    key: str
    etag: str  # uppercase hex without quotes; multipart "HEX-N"
    size: int
    mime_type: str
    crc64: int
    content_md5: str  # base64, or "" when OSS reports none (CompleteMultipartUpload)
    client_ip: str
    request_id: str
    operation: str  # PutObject | CompleteMultipartUpload | PostObject
    open_data: Callable[[], BinaryIO] | None = None  # read only for ${imageInfo.*}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str


def image_info(open_data: Callable[[], BinaryIO] | None) -> ImageInfo | None:
    """Width, height and OSS format name of an image object; None when it is not an image."""
    if open_data is None:
        return None
    try:
        with open_data() as stream, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # decompression-bomb warnings: only the header is read
            with Image.open(stream, formats=_OPENERS) as image:
                return ImageInfo(image.width, image.height, _IMAGE_FORMATS[image.format or ""])
    except Exception:  # Pillow raises many types for corrupt data; all mean "not an image"
        return None


def render_body(spec: CallbackSpec, ctx: CallbackContext) -> bytes:
    """The callback request body: ``spec.body`` with every variable substituted."""
    values: dict[str, str | int | None] = {
        "bucket": ctx.bucket,
        "object": ctx.key,
        "etag": ctx.etag,
        "size": ctx.size,
        "mimeType": ctx.mime_type,
        "crc64": ctx.crc64,
        "contentMd5": ctx.content_md5,
        "vpcId": "",
        "clientIp": ctx.client_ip,
        "reqId": ctx.request_id,
        "operation": ctx.operation,
    }
    if "${imageInfo." in spec.body:
        image = image_info(ctx.open_data)
        values["imageInfo.height"] = image.height if image else None
        values["imageInfo.width"] = image.width if image else None
        values["imageInfo.format"] = image.format if image else None
    encode = _form_value if spec.body_type == FORM_TYPE else _json_value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = spec.variables.get(name) if name.startswith("x:") else values.get(name)
        return encode(value)

    return _VARIABLE.sub(substitute, spec.body).encode("utf-8", "replace")


def _form_value(value: str | int | None) -> str:
    return "" if value is None else quote(str(value), safe="")


def _json_value(value: str | int | None) -> str:
    if value is None or value == "":
        return "null"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
