"""``python -m bench.fsck_scrub``: how long ``ossemu fsck`` takes to scrub a data dir.

Fills a scratch data dir through the storage layer (small bodies inline, larger ones as blob
files, as ``ossemu serve`` would store them), then runs the real ``ossemu fsck --json`` and
prints what it read and how long it took. Not part of ``make bench``: it measures the scrub, not
a server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ossemu.emulator.storage import Storage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10000, help="4 KiB objects (inline)")
    parser.add_argument("--large", type=int, default=500, help="1 MiB objects (blob files)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        storage = Storage(root)
        storage.create_bucket("scrub")
        for i in range(args.small):
            storage.put_object("scrub", f"small/{i}", iter([os.urandom(4096)]))
        for i in range(args.large):
            storage.put_object("scrub", f"large/{i}", iter([os.urandom(1024 * 1024)]))
        storage.close()
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "ossemu.emulator", "fsck", "--json", "--data-dir", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        report = json.loads(result.stdout)
        mb = report["bytes_read"] / 1e6
        print(
            f"{report['objects']} objects ({report['inline_objects']} inline), {mb:.0f} MB: "
            f"fsck {wall:.2f} s wall ({report['seconds']:.2f} s scrubbing, "
            f"{mb / report['seconds']:.0f} MB/s), exit {result.returncode}"
        )


if __name__ == "__main__":
    main()
