"""The README's memory figures come from a command that runs: here with 16 MiB bodies."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_measure_limits_command_runs_and_stays_within_the_limits():
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(
        r"^\s*(\.venv/bin/python -m tests\.reliability\.measure_limits.*)$", readme, flags=re.M
    )
    args = command.split()[1:]
    args[args.index("--mib") + 1] = "16"
    result = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    callback, journal, xml = result.stdout.splitlines()
    got_out = float(re.search(r"the app got ([\d.]+) MiB out", callback).group(1))
    assert got_out < 16 and "the uploader got 203" in callback
    assert float(re.search(r"journal ([\d.]+) MiB", journal).group(1)) < 2
    assert xml.endswith("400 MalformedXML")
