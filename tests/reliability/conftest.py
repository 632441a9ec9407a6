"""Sandboxes for the bad-input tests (``test_bad_*.py``), checked again at teardown.

Every case gets OSS's error with the right status - never a 500 - nothing lands outside the
data dir, and the server keeps serving other clients. ``server`` runs each module against both
servers - the in-process Werkzeug one and ``ossemu serve`` - for cases the HTTP server meets
first; ``emulator`` is the in-process one alone, for cases about OSS arguments. Both are
module-scoped, so each test module gets its own sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer
from tests.reliability.helpers import (
    BUCKET,
    KEY_ID,
    OBJECT,
    SECRET,
    ServeProcess,
    files_outside,
    raw_request,
)
from tests.support import RawResponse


@dataclass
class Target:
    name: str
    port: int
    root: Path  # everything the server may write is under root/data
    data_dir: Path

    def request(self, method: str, bucket: str | None, key: str | None, **kw: Any) -> RawResponse:
        return raw_request(self.port, method, bucket, key, **kw)

    def upload_id(self, key: str) -> str:
        body = self.request("POST", BUCKET, key, params=[("uploads", "")]).body
        match = re.search(rb"<UploadId>(\w+)</UploadId>", body)
        assert match, body
        return match.group(1).decode()


@contextmanager
def _in_process(root: Path) -> Iterator[Target]:
    config = EmulatorConfig(
        data_dir=root / "data",
        host="127.0.0.1",
        port=0,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
    )
    with EmulatorServer(config) as server:
        yield Target("in-process", server.port, root, root / "data")


def _prepare(t: Target) -> Target:
    assert t.request("PUT", BUCKET, None).status == 200
    assert t.request("PUT", BUCKET, "obj", body=OBJECT).status == 200
    return t


def _leaves_nothing_outside(t: Target) -> None:
    stray = files_outside(t.root, t.data_dir)
    assert not stray, f"written outside the data dir: {stray}"
    still = t.request("GET", BUCKET, "obj")
    assert (still.status, still.body) == (200, OBJECT), "the server stopped serving"


@pytest.fixture(scope="module", params=["in-process", "serve"])
def server(request, tmp_path_factory) -> Iterator[Target]:
    root = tmp_path_factory.mktemp(f"sandbox-{request.param}")
    if request.param == "in-process":
        with _in_process(root) as t:
            yield _prepare(t)
            _leaves_nothing_outside(t)
        return
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    process = ServeProcess(root / "data", log=log)
    t = _prepare(Target("serve", process.port, root, root / "data"))
    try:
        yield t
        _leaves_nothing_outside(t)
    finally:
        assert process.stop() == 0
    assert "Traceback" not in process.log_text()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[Target]:
    """The in-process server alone: OSS-level arguments do not depend on the HTTP server."""
    with _in_process(tmp_path_factory.mktemp("sandbox-emulator")) as t:
        yield _prepare(t)
        _leaves_nothing_outside(t)
