"""CRC-64/XZ (the ECMA-182 variant OSS sends as ``x-oss-hash-crc64ecma``), via ``anycrc``.

``anycrc`` is a compiled extension with a pure install path on every platform we target, so the
check can stay on by default without the crcmod slowness oss2 users hit (oss2 issue #100).
"""

from __future__ import annotations

import threading

import anycrc

_MODEL = anycrc.Model("CRC64-XZ")
# ``Model.calc`` is a pure function of (data, init), but the C object is not documented as
# thread-safe; one lock keeps concurrent part uploads honest at negligible cost.
_LOCK = threading.Lock()


def crc64(data: bytes | bytearray | memoryview, init: int = 0) -> int:
    """CRC of ``data``, continuing from ``init`` (the CRC of everything before it)."""
    if not data:
        return init
    with _LOCK:
        return int(_MODEL.calc(data, init=init))


def combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC of ``A + B`` from ``crc(A)``, ``crc(B)`` and ``len(B)`` (joins multipart parts)."""
    if len2 == 0:
        return crc1
    with _LOCK:
        return int(_MODEL.combine(crc1, crc2, len2))


class Crc64:
    """A running CRC-64 over a stream of chunks."""

    __slots__ = ("value", "length")

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Fold in the next chunk."""
        self.value = crc64(data, self.value)
        self.length += len(data)
