"""``python -m bench.progress_cost [MiB]``: what a progress bar costs ``ossemu put``.

Chose the CLI's progress library (rich or tqdm) by measurement: a 200 MiB put against a local
emulator (the SDK reports every 64 KiB chunk, so 3,200 updates), with no bar, a rich bar and a
tqdm bar, each drawing to a terminal-like stream; plus the bare cost of one update call. A
standalone script, not part of ``make bench``.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ossemu.client import Client
from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer

Bar = Callable[[int, "int | None"], None]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@contextmanager
def _rich(total: int) -> Iterator[Bar]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=_Tty(), force_terminal=True, width=100)
    columns = (BarColumn(), DownloadColumn(binary_units=True), TransferSpeedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("put", total=total)
        yield lambda done, _total: progress.update(task, completed=done)


@contextmanager
def _tqdm(total: int) -> Iterator[Bar]:
    from tqdm import tqdm

    with tqdm(total=total, file=_Tty(), unit="B", unit_scale=True, unit_divisor=1024) as bar:
        yield lambda done, _total: bar.update(done - bar.n)


@contextmanager
def _none(total: int) -> Iterator[Bar | None]:
    yield None


def per_update(make: Callable[[int], object], n: int = 20000) -> float:
    """Microseconds per update call, the bar alone."""
    with make(n) as bar:  # type: ignore[attr-defined]
        start = time.perf_counter()
        for i in range(1, n + 1):
            bar(i, n)
        return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    kinds = {"none": _none, "rich": _rich, "tqdm": _tqdm}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.bin"
        with open(src, "wb") as out:
            for _ in range(mib):
                out.write(os.urandom(1024 * 1024))
        config = EmulatorConfig(port=0, data_dir=Path(tmp) / "data")
        with EmulatorServer(config).start() as server:
            client = Client(server.url, server.access_key_id, server.access_key_secret)
            client.create_bucket("progress")
            bucket = client.get_bucket("progress")
            times: dict[str, list[float]] = {k: [] for k in kinds}
            for _ in range(3):
                for name, make in kinds.items():
                    with make(src.stat().st_size) as bar:
                        start = time.perf_counter()
                        bucket.put_object("big.bin", file=src, progress=bar)
                        times[name].append(time.perf_counter() - start)
            client.close()
    base = statistics.median(times["none"])
    print(f"{mib} MiB put, median of 3 (s): none {base:.3f}")
    for name in ("rich", "tqdm"):
        took = statistics.median(times[name])
        print(
            f"  {name}: {took:.3f} s ({(took - base) * 1000:+.0f} ms), "
            f"{per_update(kinds[name]):.1f} us per update alone"
        )


if __name__ == "__main__":
    main()
