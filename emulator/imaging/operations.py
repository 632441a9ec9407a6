"""The drawing steps of OSS IMG (resize, crop, rotate) over a decoded Pillow image.

Semantics from Alibaba's "Resize images", "Crop images" and "Rotate images" pages: a resize
keeps the aspect ratio except in ``m_fixed``, and by default (``limit_1``) never enlarges.
"""

from __future__ import annotations

from PIL import Image

from ..protocol.errors import OssError, invalid_argument
from .params import Step

MAX_TARGET_PIXELS = 4096 * 4096  # "The resolution of an image can be up to 4,096 x 4,096"
_EAST = ("ne", "east", "se")
_SOUTH = ("sw", "south", "se")


def apply(step: Step, image: Image.Image) -> Image.Image:
    """One resize, crop or rotate step."""
    if step.action == "resize":
        return resize(step, image)
    if step.action == "crop":
        return crop(step, image)
    return rotate(int(step.value or 0), image)


def resize(step: Step, image: Image.Image) -> Image.Image:
    """``resize``: m_lfit (default), m_mfit, m_fill, m_pad, m_fixed; w/h, l/s or p; limit."""
    width, height = image.size
    limit = step.int_arg("limit", 0, 1, 1)
    mode = step.args.get("m", "lfit")
    w, h = step.int_arg("w", 1, 16384), step.int_arg("h", 1, 16384)
    if w is None and h is None:
        percent = step.int_arg("p", 1, 1000)
        if percent is not None and "l" not in step.args and "s" not in step.args:
            if limit and percent > 100:
                return image
            return _scaled(image, percent / 100, percent / 100)
        long, short = step.int_arg("l", 1, 16384), step.int_arg("s", 1, 16384)
        w, h = (long, short) if width >= height else (short, long)
    if mode == "fixed":
        tw = w or round(width * (h or height) / height)
        th = h or round(height * (w or width) / width)
        if limit and (tw > width or th > height):
            return image
        return _resized(image, tw, th)
    ratios = [r for r in ((w / width) if w else None, (h / height) if h else None) if r]
    scale = max(ratios) if mode in ("mfit", "fill") else min(ratios)
    if limit and scale > 1:
        return image
    out = _scaled(image, scale, scale)
    if mode == "fill":
        bw, bh = w or h or 1, h or w or 1
        left, top = (out.width - bw) // 2, (out.height - bh) // 2
        return out.crop((left, top, left + min(bw, out.width), top + min(bh, out.height)))
    if mode == "pad":
        return _padded(out, w or h or 1, h or w or 1, step.args.get("color", "FFFFFF"))
    return out


def crop(step: Step, image: Image.Image) -> Image.Image:
    """``crop``: a w x h box whose origin is x, y from the gravity's anchor (g, default nw)."""
    width, height = image.size
    w = step.int_arg("w", 0, 30000) or width
    h = step.int_arg("h", 0, 30000) or height
    x, y = step.int_arg("x", 0, 30000, 0) or 0, step.int_arg("y", 0, 30000, 0) or 0
    if x >= width or y >= height:
        raise invalid_argument(
            f"The crop origin x_{x}, y_{y} is outside the image ({width}x{height}).",
            ec="0040-00000201",
        )
    w, h = min(w, width), min(h, height)
    gravity = step.args.get("g", "nw")
    across = "near" if gravity in ("nw", "west", "sw") else "far" if gravity in _EAST else "mid"
    down = "near" if gravity in ("nw", "north", "ne") else "far" if gravity in _SOUTH else "mid"
    left, top = _origin(across, width, w, x), _origin(down, height, h, y)
    box = (left, top, min(left + w, width), min(top + h, height))
    return image.crop(box)


def rotate(degrees: int, image: Image.Image) -> Image.Image:
    """``rotate``: clockwise, the canvas grown to hold the whole image (corners white)."""
    if degrees % 360 == 0:
        return image
    fill = (255, 255, 255, 0) if image.mode == "RGBA" else "white"
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA")
        fill = (255, 255, 255, 0)
    return image.rotate(-degrees, expand=True, fillcolor=fill)


def _origin(anchor: str, side: int, size: int, offset: int) -> int:
    """Where the box starts along one axis: the near edge + offset, the far edge - size -
    offset, or the centre + offset."""
    if anchor == "near":
        return offset
    if anchor == "far":
        return max(side - size - offset, 0)
    return max(min((side - size) // 2 + offset, side - 1), 0)


def _scaled(image: Image.Image, sx: float, sy: float) -> Image.Image:
    return _resized(image, max(round(image.width * sx), 1), max(round(image.height * sy), 1))


def _resized(image: Image.Image, width: int, height: int) -> Image.Image:
    if width * height > MAX_TARGET_PIXELS:
        raise OssError(
            "ImageTooLarge",
            f"The resized image {width}x{height} exceeds 4096x4096 pixels.",
            ec="0040-00000007",
        )
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _padded(image: Image.Image, width: int, height: int, color: str) -> Image.Image:
    rgb = tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    canvas = Image.new(mode, (width, height), rgb if mode == "RGB" else (*rgb, 255))
    canvas.paste(image.convert(mode), ((width - image.width) // 2, (height - image.height) // 2))
    return canvas
