"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from filelock import FileLock

from ossemu.emulator.cli import main

NODE_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "readme-node"


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


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["v1", "v4"])
def oss2_bucket(request, oss_emulator) -> Iterator[oss2.Bucket]:
    """A fresh bucket through oss2, signed with V1 ``Auth`` and with ``AuthV4``."""
    auth_class = oss2.Auth if request.param == "v1" else oss2.AuthV4
    auth = auth_class(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    bucket = oss2.Bucket(auth, oss_emulator.url, _unique("oss2"), region="cn-hangzhou")
    bucket.create_bucket()
    yield bucket
    oss_emulator.services.storage.drop_bucket(bucket.bucket_name)


@pytest.fixture(params=["v4", "v1"])
def v2_client(request, oss_emulator) -> Iterator[tuple[oss.Client, str]]:
    """An alibabacloud-oss-v2 client (V4 and V1 signing) and a fresh bucket's name."""
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region = "cn-hangzhou"
    cfg.endpoint = oss_emulator.url
    cfg.signature_version = request.param
    client = oss.Client(cfg)
    name = _unique("v2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    oss_emulator.services.storage.drop_bucket(name)


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
