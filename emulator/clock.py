"""The emulator's one idea of "now", handed to storage, auth, the journal and the access log.

Everything that stamps a time or checks an expiry asks a :class:`Clock` instead of calling
``time.time()``, so a test clock (moved forward, shared by every process on a data dir) only has
to replace :meth:`Clock.now`. Durations keep ``time.monotonic()``: they measure, not date.
"""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in epoch seconds."""

    def now(self) -> float:
        """Seconds since the epoch, as the emulator should see them."""
        return time.time()


WALL_CLOCK = Clock()
