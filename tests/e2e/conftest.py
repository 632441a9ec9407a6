"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ossemu.emulator.cli import main


@pytest.fixture
def ossemu(oss_emulator, capsys):
    """Run `ossemu ARGV... --endpoint <emulator> <credentials>`: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(
            [
                *argv,
                "--endpoint",
                oss_emulator.url,
                "--access-key-id",
                oss_emulator.access_key_id,
                "--access-key-secret",
                oss_emulator.access_key_secret,
            ]
        )
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    """Keep resumable-upload checkpoints out of the real home directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
