"""One CPU for each gunicorn worker.

A worker is one Python process whose threads take turns on one GIL. Left to the scheduler, those
threads run on every core, and each hand-over of the GIL to a thread that was woken on another
core waits for that wake-up: on the bench's 2-core VM a 4 KiB PUT made 10 voluntary context
switches, and the cores idled 13-16% of a load they could not keep up with. Pinned, one core per
worker, the same load made 6, idled 4%, and ran 22-57% faster (GET 18-42%; with one worker, GET
+72%): ``bench/analysis.md``, stop 29.

Each new worker takes the CPU the fewest live workers are on, among those ``ossemu serve`` may
use, so a restarted worker takes its predecessor's and more workers than CPUs share them evenly.
Where ties start depends on the master's pid, so several ``ossemu serve`` on a many-core
machine do not all crowd onto its first CPUs. Linux only; elsewhere, and on one CPU, nothing is
pinned.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence

from .storage import hashing

logger = logging.getLogger("ossemu")


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on (none where the platform cannot pin)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


class CpuPlan:
    """Chooses each worker's CPU from ``cpus``; ties go to the first from ``start`` on."""

    def __init__(self, cpus: Sequence[int], start: int = 0) -> None:
        first = start % len(cpus) if cpus else 0
        self.cpus = [*cpus[first:], *cpus[:first]]

    def choose(self, taken: Iterable[int | None]) -> int | None:
        """The CPU for a new worker, given the live workers' (None: do not pin)."""
        if len(self.cpus) < 2:
            return None
        load = Counter(cpu for cpu in taken if cpu is not None)
        return min(self.cpus, key=lambda cpu: load[cpu])


def pin(cpu: int | None) -> None:
    """Run this process (and the threads it starts later) on ``cpu`` only; a big upload's MD5
    helper still runs on any CPU the process had (a pinned one made a 256 MiB PUT 23% slower)."""
    if cpu is None:
        return
    try:
        hashing.HELPER_CPUS = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:  # a cpuset changed under us: run unpinned rather than not at all
        logger.debug("worker %d not pinned to CPU %d: %s", os.getpid(), cpu, exc)
