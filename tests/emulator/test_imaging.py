"""emulator.imaging without HTTP: the spec parser's refusals and the drawing steps."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from ossemu.emulator.imaging import Step, parse, process
from ossemu.emulator.protocol.errors import OssError


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, "PNG")
    return out.getvalue()


def test_parse_reads_a_chain_of_steps():
    assert parse("image/resize,m_fill,w_10,h_20/rotate,90/format,png") == [
        Step("resize", {"m": "fill", "w": "10", "h": "20"}),
        Step("rotate", value="90"),
        Step("format", value="png"),
    ]


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("image/", "MissingArgument"),
        ("image/info/resize,w_10", "InvalidArgument"),
        ("image/resize,w", "InvalidArgument"),
        ("image/resize,w_1,x_1", "InvalidArgument"),
        ("image/resize,w_1,color_GGGGGG", "InvalidArgument"),
        ("image/crop,g_middle", "InvalidArgument"),
        ("image/quality", "MissingArgument"),
        ("image/auto-orient,2", "InvalidArgument"),
        ("image/format,heic", "InvalidArgument"),
        ("image/blur,r_3", "NotImplemented"),
        ("style/thumb", "NotImplemented"),
        ("image/" + "rotate,1/" * 20, "InvalidArgument"),
    ],
)
def test_parse_refuses_what_oss_refuses(spec, code):
    with pytest.raises(OssError) as e:
        parse(spec)
    assert e.value.code == code


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` in its header and holds no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(20000, 20000), (30001, 10), (15000, 17000)])
def test_pixel_bomb_refused_from_its_header(size):
    """Sizes past 30,000 px a side or 250 M pixels are refused before any decoding."""
    with pytest.raises(OssError) as e:
        process(png_header(*size), parse("image/resize,w_10"))
    assert e.value.code == "ImageTooLarge"


def test_crop_gravity_south_east_with_offsets():
    image = Image.new("RGB", (100, 100), "white")
    image.putpixel((89, 89), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    result = process(out.getvalue(), parse("image/crop,w_10,h_10,x_10,y_10,g_se"))
    cropped = Image.open(io.BytesIO(result.body))
    assert cropped.size == (10, 10) and cropped.getpixel((9, 9)) == (0, 0, 0)
