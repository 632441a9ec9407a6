"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

NODE_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "readme-node"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(scope="session")
def ali_oss() -> tuple[str, dict[str, str]]:
    """Node.js and an environment whose ``require('ali-oss')`` finds ali-oss 6, installed once
    from npm under ``.cache/`` (a file lock keeps xdist workers from installing it twice)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node.js is part of this machine kind; the ali-oss tests need it"
    NODE_CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(NODE_CACHE) + ".lock"):
        if not (NODE_CACHE / "node_modules" / "ali-oss").exists():
            subprocess.run(
                [npm, "install", "--silent", "--no-audit", "--no-fund"]
                + ["--prefix", str(NODE_CACHE), "ali-oss@6"],
                check=True,
                timeout=300,
            )
    return node, {**os.environ, "NODE_PATH": str(NODE_CACHE / "node_modules")}
