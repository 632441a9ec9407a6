"""What the CLI tests share: a terminal's view of the progress bar, and `ossemu` as a process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def plain(text: str) -> str:
    """What a terminal shows of ``text``, less the colours and cursor moves."""
    return _ANSI.sub("", text)


def final_frame(stderr: str) -> str:
    """The progress bar's last redraw, as the terminal leaves it."""
    return plain(stderr).rstrip("\n").split("\r")[-1].split("\n")[0]


def cli_env(emulator: Any, **extra: str) -> dict[str, str]:
    """The environment a user sets to point `ossemu` at ``emulator``."""
    return {
        **os.environ,
        "OSS_ENDPOINT": emulator.url,
        "OSS_ACCESS_KEY_ID": emulator.access_key_id,
        "OSS_ACCESS_KEY_SECRET": emulator.access_key_secret,
        **extra,
    }


def ossemu_script() -> str:
    """The `ossemu` console script of this environment (what `pip install` put on PATH)."""
    return os.path.join(os.path.dirname(sys.executable), "ossemu")


def ossemu_process(*argv: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    """`ossemu ARGV...` as a child process, the console script the user types."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.Popen([ossemu_script(), *argv], text=True, env=env, **options)
