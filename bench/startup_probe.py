"""``python -m bench.startup_probe``: how long the pytest fixture's emulator takes to start.

Run in a fresh process so nothing is warm: import time, then ``EmulatorServer(config).start()``
until the first answer, on a new data dir (what each test session gets, RSA key included) and
again on that same dir (what a second server on it pays).
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from pathlib import Path


def main() -> int:
    started = time.perf_counter()
    from ossemu.emulator.config import EmulatorConfig
    from ossemu.emulator.server import EmulatorServer

    imported = time.perf_counter() - started
    out = {"import_s": imported}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        for label in ("new_dir_s", "existing_dir_s"):
            t0 = time.perf_counter()
            server = EmulatorServer(EmulatorConfig(data_dir=Path(tmp), port=0)).start()
            with urllib.request.urlopen(server.url + "/_ossemu/health", timeout=10) as resp:
                resp.read()
            out[label] = time.perf_counter() - t0
            server.stop()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
