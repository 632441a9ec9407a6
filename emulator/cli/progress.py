"""Sizes for humans and the ``put``/``get`` progress line."""

from __future__ import annotations

import argparse
import re
import threading
from typing import TextIO

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``16MiB``, ``100k``, ``1.5G`` or plain bytes; units are binary."""
    match = _SIZE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 100KiB or 16MiB")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


def human_size(n: float) -> str:
    """``12.3 MiB``: binary units, one decimal."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class ProgressBar:
    """A ``progress=`` callback drawing ``\\r[#####     ] 45% 12.3 MiB/27.0 MiB``.

    Redraws only when the text changes; safe to call from the uploader's part threads.
    """

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width, self._last = stream, width, ""
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int | None) -> None:
        text = human_size(done)
        if total:
            filled = min(self.width, self.width * done // total)
            bar = "#" * filled + " " * (self.width - filled)
            text = f"[{bar}] {100 * done // total:3d}% {text}/{human_size(total)}"
        with self._lock:
            if text != self._last:
                # Pad to the previous width, so a shorter text leaves no stale tail.
                self.stream.write("\r" + text.ljust(len(self._last)))
                self.stream.flush()
                self._last = text

    def close(self) -> None:
        """End the bar's line so that later output starts on a fresh one."""
        with self._lock:
            if self._last:
                self.stream.write("\n")
                self.stream.flush()
