"""What a user's test pays for the plugin's fixtures: an upload-only test against one that also
waits for its callback (``callback_receiver``), timed per test (setup + call + teardown).

A tiny suite runs in a fresh pytest process, as a user's would; a conftest records each test's
durations to JSON. The first test of each kind is dropped (it starts the session servers).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .report import Results

WORKLOAD = "plugin test cost (setup+call+teardown)"
GOAL_RATIO, GOAL_MS = 2.0, 20.0

_CONFTEST = """
import json, os

_times = {}

def pytest_runtest_logreport(report):
    _times[report.nodeid] = _times.get(report.nodeid, 0.0) + report.duration

def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_COST_OUT"], "w") as out:
        json.dump(_times, out)
"""

_SUITE = """
import pytest
from ossemu.client import Callback

@pytest.mark.parametrize("i", range({n}))
def test_upload(oss_bucket, i):
    oss_bucket.put_object("k", b"hello")

@pytest.mark.parametrize("i", range({n}))
def test_upload_with_callback(oss_bucket, callback_receiver, i):
    oss_bucket.put_object("k", b"hello", callback=Callback(url=callback_receiver.url))
    callback_receiver.wait_for(1)
"""


def run_suite(n: int) -> tuple[list[float], list[float]]:
    """Per-test seconds of (upload-only, upload-with-callback) tests, first of each dropped."""
    with tempfile.TemporaryDirectory(prefix="fixture-cost-") as tmp:
        root = Path(tmp)
        (root / "conftest.py").write_text(_CONFTEST)
        (root / "test_cost.py").write_text(_SUITE.format(n=n))
        out = root / "times.json"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
            cwd=root,
            env={**os.environ, "FIXTURE_COST_OUT": str(out)},
            check=True,
            capture_output=True,
            timeout=600,
        )
        times = json.loads(out.read_text())
    plain = [t for name, t in times.items() if "::test_upload[" in name][1:]
    callback = [t for name, t in times.items() if "::test_upload_with_callback[" in name][1:]
    return plain, callback


def fixture_cost(runs: int, n: int, results: Results) -> str:
    """Add the medians (ms) to ``results`` and return the target check as a Markdown line."""
    ratios = []
    for _ in range(runs):
        plain, callback = run_suite(n)
        p, c = statistics.median(plain) * 1e3, statistics.median(callback) * 1e3
        results.add(WORKLOAD, "ms, upload only", "ossemu", p, False)
        results.add(WORKLOAD, "ms, upload + callback", "ossemu", c, False)
        results.add(WORKLOAD, "callback / upload", "ossemu", c / p, False)
        ratios.append(c / p)
    c = results.get(WORKLOAD, "ms, upload + callback", "ossemu") or 0.0
    ratio = statistics.median(ratios)
    ok = ratio <= GOAL_RATIO and c <= GOAL_MS
    return (
        f"- {'met' if ok else 'MISSED'}: a callback test costs {c:.1f} ms, {ratio:.2f}x an "
        f"upload-only test (goal: at most {GOAL_RATIO:g}x and {GOAL_MS:g} ms)"
    )


if __name__ == "__main__":
    r = Results()
    print(fixture_cost(1, int(sys.argv[1]) if len(sys.argv) > 1 else 50, r))
    print(r.table("ossemu"))
