"""The README's availability figures come from a command that runs: here a tenth of the attack
for 3 s, which the default ``ossemu serve`` takes without an error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_measure_availability_command_runs_and_every_request_is_answered():
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(
        r"^\s*(\.venv/bin/python -m tests\.reliability\.measure_availability.*)$",
        readme,
        flags=re.M,
    )
    args = command.split()[1:]
    args[args.index("--seconds") + 1] = "3"
    result = subprocess.run(
        [sys.executable, *args, "--scale", "0.1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    measured = [line for line in lines if re.match(r"(health|PUT 4 KiB|GET 4 KiB): n=", line)]
    assert len(measured) == 3, result.stdout
    assert all(line.endswith("errors=0") for line in measured), result.stdout
