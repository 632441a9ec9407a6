"""pytest fixtures: a session emulator, a fresh bucket and a callback receiver per test.

Registered once through the ``pytest11`` entry point, so installing ossemu is all a project needs.
Shape taken from pytest-httpserver: a session server on port 0, per-test state, overridable
config fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .config import EmulatorConfig

if TYPE_CHECKING:
    from client import Bucket, Client

    from .receiver import CallbackReceiver
    from .server import EmulatorServer


@pytest.fixture(scope="session")
def oss_emulator_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    """Override this fixture to change credentials, auth, callback timeout…"""
    return EmulatorConfig(data_dir=tmp_path_factory.mktemp("ossemu-data"), host="127.0.0.1", port=0)


@pytest.fixture(scope="session")
def oss_emulator_server(oss_emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    from .server import EmulatorServer

    server = EmulatorServer(oss_emulator_config).start()
    yield server
    server.stop()


@pytest.fixture
def oss_emulator(oss_emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session's emulator: ``.url``, credentials, ``.callbacks()``, ``.add_fault()``…"""
    yield oss_emulator_server
    oss_emulator_server.services.faults.clear()


@pytest.fixture
def oss_client(oss_emulator: EmulatorServer) -> Iterator[Client]:
    from client import Client

    with Client(oss_emulator.url, oss_emulator.access_key_id, oss_emulator.access_key_secret) as c:
        yield c


@pytest.fixture
def oss_bucket(oss_client: Client, oss_emulator: EmulatorServer) -> Iterator[Bucket]:
    """A freshly created, uniquely named bucket; emptied and deleted after the test."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    bucket = oss_client.create_bucket(name)
    yield bucket
    oss_emulator.services.storage.drop_bucket(name)


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A started callback receiver on 127.0.0.1:0 recording what arrives."""
    from .receiver import CallbackReceiver

    receiver = CallbackReceiver("127.0.0.1", 0)
    receiver.start()
    yield receiver
    receiver.stop()
    receiver.check()
