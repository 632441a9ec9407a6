"""Find or install the peers and tools: wrk and nginx (Debian, as root), s3rver (npm), moto.

Nothing is installed behind the user's back except what ``make bench`` documents; whatever
cannot be had is skipped and said so in the results.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
S3RVER_VERSION = "3"


@dataclass
class Tools:
    wrk: str | None = None
    nginx: str | None = None
    s3rver: list[str] | None = None  # argv prefix
    moto: bool = False
    notes: list[str] = field(default_factory=list)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_install(packages: list[str], notes: list[str]) -> None:
    if not packages:
        return
    if not _is_root() or shutil.which("apt-get") is None:
        notes.append(f"not installed (needs root and apt-get): {' '.join(packages)}")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            notes.append(f"apt-get failed for {' '.join(packages)}: {done.stderr.strip()[-200:]}")
            return


def _nginx_path() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )


def _s3rver(notes: list[str], install: bool) -> list[str] | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node:
        notes.append("s3rver skipped: node is not installed")
        return None
    entry = BENCH_DIR / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if not entry.exists() and install and npm:
        subprocess.run(
            [npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund"]
            + ["--prefix", str(BENCH_DIR), f"s3rver@{S3RVER_VERSION}"],
            capture_output=True,
            timeout=600,
            check=False,
        )
    if not entry.exists():
        notes.append("s3rver skipped: npm install s3rver failed or npm is missing")
        return None
    return [node, str(entry)]


def find_tools(*, install: bool = True) -> Tools:
    """What this machine has, after installing the missing pieces it may install."""
    tools = Tools()
    missing = [
        pkg
        for pkg, present in (("wrk", shutil.which("wrk")), ("nginx", _nginx_path()))
        if not present
    ]
    if install:
        _apt_install(missing, tools.notes)
    tools.wrk = shutil.which("wrk")
    tools.nginx = _nginx_path()
    if tools.wrk is None:
        tools.notes.append("wrk missing: the Python load generator ran the 4 KiB workloads")
    if tools.nginx is None:
        tools.notes.append("nginx missing: no ceiling rows")
    tools.s3rver = _s3rver(tools.notes, install)
    tools.moto = importlib.util.find_spec("moto") is not None
    if not tools.moto:
        tools.notes.append("moto skipped: pip install 'moto[server]' (the bench extra)")
    return tools
