"""Image processing (OSS IMG): ``x-oss-process=image/...`` applied to an object's bytes.

Pure code: bytes and a spec in, bytes and a Content-Type out; the GET route only hands them
over. Memory is bounded before anything is decoded: the source's size is checked against OSS's
20 MB, then its header's dimensions against 30,000 px a side and 250 million pixels, and
Pillow's own decompression-bomb limit is set to the same figure. May import protocol.errors.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from ..protocol.errors import OssError
from .operations import apply
from .params import Step, parse

MAX_SOURCE_BYTES = 20 * 1024 * 1024
MAX_SOURCE_SIDE = 30000
MAX_SOURCE_PIXELS = 250_000_000
Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS

# Pillow's format name -> (OSS's name, Content-Type)
_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "BMP": ("bmp", "image/bmp"),
    "GIF": ("gif", "image/gif"),
    "TIFF": ("tiff", "image/tiff"),
}
_PILLOW = {oss: pil for pil, (oss, _) in _FORMATS.items()}


@dataclass(frozen=True)
class Processed:
    """A processed answer: its body and the Content-Type OSS gives it."""

    body: bytes
    content_type: str


def check_spec(spec: str) -> list[Step]:
    """Parse the spec alone, so a bad parameter is refused before the object is read."""
    return parse(spec)


def check_source_size(size: int) -> None:
    """Refuse a source over OSS's 20 MB without reading it."""
    if size > MAX_SOURCE_BYTES:
        raise OssError(
            "ImageTooLarge",
            f"The image size {size} exceeds the limit {MAX_SOURCE_BYTES}.",
            ec="0040-00000009",
        )


def process(source: bytes, steps: list[Step]) -> Processed:
    """Run the chain over ``source``; ``image/info`` as the last step answers JSON."""
    check_source_size(len(source))
    image = _open(source)
    source_format = _FORMATS[image.format or ""][0]
    if len(steps) == 1 and steps[0].action == "info":
        return _info(len(source), source_format, image)
    out_format, quality = source_format, None
    for step in steps:
        if step.action == "format":
            out_format = step.value or out_format
        elif step.action == "quality":
            quality = step.int_arg("Q", 1, 100) or step.int_arg("q", 1, 100)
        elif step.action == "auto-orient":
            if step.value == "1":
                image = ImageOps.exif_transpose(image)
        elif step.action != "info":
            image = apply(step, image)
    body = _encode(image, out_format, quality)
    if steps[-1].action == "info":
        return _info(len(body), out_format, image)
    return Processed(body, _FORMATS[_PILLOW[out_format]][1])


def _open(source: bytes) -> Image.Image:
    """Read the header only, check the dimensions, then decode the first frame."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source))
    except Image.DecompressionBombWarning:
        raise _too_large() from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as e:
        if isinstance(e, Image.DecompressionBombError):
            raise _too_large() from None
        raise OssError("BadRequest", "The image format is not supported.") from None
    if image.format not in _FORMATS:
        raise OssError("BadRequest", "The image format is not supported.")
    width, height = image.size
    if max(width, height) > MAX_SOURCE_SIDE or width * height > MAX_SOURCE_PIXELS:
        raise _too_large()
    try:
        image.load()
    except (OSError, ValueError, SyntaxError):
        raise OssError("BadRequest", "The image cannot be decoded.") from None
    return image


def _too_large() -> OssError:
    return OssError(
        "ImageTooLarge",
        f"The image is larger than {MAX_SOURCE_SIDE} px a side or {MAX_SOURCE_PIXELS} pixels.",
        ec="0040-00000012",
    )


def _encode(image: Image.Image, fmt: str, quality: int | None) -> bytes:
    pillow = _PILLOW[fmt]
    if pillow in ("JPEG", "BMP") and image.mode not in ("RGB", "L"):
        image = _flatten(image)
    elif pillow == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    options: dict[str, object] = {}
    if quality is not None and pillow in ("JPEG", "WEBP"):
        options["quality"] = quality
    out = io.BytesIO()
    image.save(out, pillow, **options)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent pixels on white, as OSS renders them in a JPEG."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _info(size: int, fmt: str, image: Image.Image) -> Processed:
    """``image/info``'s JSON: every field is ``{"value": "<text>"}``."""
    fields = {
        "FileSize": str(size),
        "Format": fmt,
        "ImageHeight": str(image.height),
        "ImageWidth": str(image.width),
    }
    orientation = image.getexif().get(0x0112)
    if orientation:
        fields["Orientation"] = str(orientation)
    body = json.dumps({k: {"value": v} for k, v in fields.items()})
    return Processed(body.encode(), "application/json")


__all__ = [
    "MAX_SOURCE_BYTES",
    "Processed",
    "Step",
    "check_source_size",
    "check_spec",
    "parse",
    "process",
]
