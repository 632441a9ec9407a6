"""pytest fixtures: a session emulator, a fresh bucket and a callback receiver per test.

Registered once through the ``pytest11`` entry point, so installing ossemu is all a project needs.
Shape taken from pytest-httpserver: one server per session on port 0 (so ``pytest-xdist`` workers
never collide), per-test state, small config fixtures to override, and errors raised inside the
servers' threads re-raised in the test that caused them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .config import DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, EmulatorConfig

if TYPE_CHECKING:
    from ossemu.client import Bucket, Client

    from .receiver import CallbackReceiver
    from .server import EmulatorServer


@pytest.fixture(scope="session")
def oss_credentials() -> tuple[str, str]:
    """(access key id, secret) the emulator accepts; override to test your own."""
    return DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET


@pytest.fixture(scope="session")
def oss_emulator_auth() -> bool:
    """Whether signatures are checked; override with ``return False`` for a lenient emulator."""
    return True


@pytest.fixture(scope="session")
def oss_callback_timeout() -> float:
    """Seconds the emulator waits for each callback URL (OSS: 5)."""
    return 5.0


@pytest.fixture(scope="session")
def oss_emulator_config(
    tmp_path_factory: pytest.TempPathFactory,
    oss_credentials: tuple[str, str],
    oss_emulator_auth: bool,
    oss_callback_timeout: float,
) -> EmulatorConfig:
    """The whole configuration; override this one fixture to control everything."""
    key_id, secret = oss_credentials
    return EmulatorConfig(
        data_dir=tmp_path_factory.mktemp("ossemu-data"),
        host="127.0.0.1",
        port=0,
        access_key_id=key_id,
        access_key_secret=secret,
        auth=oss_emulator_auth,
        callback_timeout=oss_callback_timeout,
    )


@pytest.fixture(scope="session")
def oss_emulator_server(oss_emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    """The session's emulator, in-process (Werkzeug in a daemon thread)."""
    from .server import EmulatorServer

    server = EmulatorServer(oss_emulator_config).start()
    yield server
    server.stop()


@pytest.fixture
def oss_emulator(oss_emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session's emulator: ``.url``, credentials, ``.callbacks()``, ``.add_fault()``…

    Faults are cleared after each test; a 500 the emulator raised during the test fails it.
    """
    oss_emulator_server.services.take_errors()
    yield oss_emulator_server
    oss_emulator_server.services.faults.clear()
    errors = oss_emulator_server.services.take_errors()
    if errors:
        raise errors[0]


@pytest.fixture
def oss_client(oss_emulator: EmulatorServer) -> Iterator[Client]:
    """A :class:`client.Client` signed with the emulator's credentials."""
    from ossemu.client import Client

    with Client(oss_emulator.url, oss_emulator.access_key_id, oss_emulator.access_key_secret) as c:
        yield c


@pytest.fixture
def oss_bucket(oss_client: Client, oss_emulator: EmulatorServer) -> Iterator[Bucket]:
    """A freshly created, uniquely named bucket; dropped with its contents after the test."""
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
