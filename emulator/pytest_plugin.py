"""pytest fixtures: a session emulator, a fresh bucket and a callback receiver per test.

Registered once through the ``pytest11`` entry point, so installing ossemu is all a project needs.
Shape taken from pytest-httpserver: one server per session on port 0 (so ``pytest-xdist`` workers
never collide), per-test state, small config fixtures to override, and errors raised inside the
servers' threads re-raised in the test that caused them. The callback receiver, too, is one per
session: each test gets its own URL prefix on it (a :class:`ReceiverScope`), which costs nothing
to open or close, where a server per test cost ~50 ms of teardown.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import pytest

from .config import DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, EmulatorConfig

if TYPE_CHECKING:
    from ossemu.client import Bucket, Client, StsCredentials

    from .receiver import CallbackReceiver, ReceiverScope
    from .server import EmulatorServer

#: The fixtures the session emulator is built from; overriding one in a subdirectory is an error.
CONFIG_FIXTURES = ("oss_credentials", "oss_emulator_auth", "oss_callback_timeout")
_CONFIG_ALL = (*CONFIG_FIXTURES, "oss_emulator_config")


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
    from .storage.startup import DataDirError

    try:
        server = EmulatorServer(oss_emulator_config).start()
    except DataDirError as e:  # one line that says how to recover, not a traceback
        pytest.fail(f"ossemu: {e}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def oss_emulator(
    request: pytest.FixtureRequest, oss_emulator_server: EmulatorServer
) -> Iterator[EmulatorServer]:
    """The session's emulator: ``.url``, credentials, ``.callbacks()``, ``.add_fault()``…

    Faults are cleared and a moved clock (``.advance_clock()``) is set back after each test; a
    500 the emulator raised during the test fails it.
    """
    _refuse_late_overrides(request)
    oss_emulator_server.take_errors()
    yield oss_emulator_server
    oss_emulator_server.clear_faults()
    oss_emulator_server.reset_clock()
    errors = oss_emulator_server.take_errors()
    if errors:
        raise errors[0]


@pytest.fixture
def oss_client(oss_emulator: EmulatorServer) -> Iterator[Client]:
    """A :class:`ossemu.client.Client` signed with the emulator's credentials."""
    from ossemu.client import Client

    with Client(oss_emulator.url, oss_emulator.access_key_id, oss_emulator.access_key_secret) as c:
        yield c


@pytest.fixture
def oss_bucket(oss_client: Client, oss_emulator: EmulatorServer) -> Iterator[Bucket]:
    """A freshly created, uniquely named bucket; dropped with its contents after the test."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    bucket = oss_client.create_bucket(name)
    yield bucket
    oss_emulator.drop_bucket(name)


@pytest.fixture
def oss_sts_credentials(oss_emulator: EmulatorServer) -> Callable[..., StsCredentials]:
    """A factory of temporary credentials from the emulator's own STS (AssumeRole).

    ``oss_sts_credentials(prefix="user-42/", actions=["oss:PutObject"], bucket="b")`` confines
    the session to ``b/user-42/*`` (``oss:ListObjects`` allows listings under the prefix);
    ``policy=`` passes a session policy as is, ``policy=None`` with no prefix and no actions
    gives an unrestricted session. Expiry follows the emulator's clock (``advance_clock``).
    """
    from ossemu.client import assume_role, prefix_policy

    def issue(
        prefix: str | None = None,
        *,
        actions: Iterable[str] | None = None,
        bucket: str = "*",
        policy: str | None = None,
        duration_seconds: int = 3600,
        role_arn: str = "acs:ram::1000000000000001:role/ossemu-test",
    ) -> StsCredentials:
        if policy is None and (prefix is not None or actions is not None):
            default = ("oss:PutObject", "oss:GetObject")
            policy = prefix_policy(bucket, prefix or "", default if actions is None else actions)
        return assume_role(
            oss_emulator.url,
            oss_emulator.access_key_id,
            oss_emulator.access_key_secret,
            role_arn,
            "pytest",
            policy=policy,
            duration_seconds=duration_seconds,
        )

    return issue


@pytest.fixture(scope="session")
def oss_callback_server() -> Iterator[CallbackReceiver]:
    """The session's callback receiver on 127.0.0.1:0; tests use ``callback_receiver``."""
    from .receiver import CallbackReceiver

    with CallbackReceiver("127.0.0.1", 0) as receiver:
        yield receiver


@pytest.fixture
def callback_receiver(oss_callback_server: CallbackReceiver) -> Iterator[ReceiverScope]:
    """This test's own callback receiver: ``.url``, ``.log``, ``.respond_with()``, ``.wait_for()``.

    A URL prefix on the session's receiver: only callbacks sent to this test's ``.url`` show in
    its log, and one that arrives after the test gets 404. Errors in the receiver fail the test.
    """
    scope = oss_callback_server.scope()
    yield scope
    scope.close()
    scope.check()


_STARTED_WITH = pytest.StashKey[tuple[str, dict[str, object]]]()


def _definitions(request: pytest.FixtureRequest) -> dict[str, object]:
    """The definition of each config fixture in effect for ``request``'s test."""
    manager = request._fixturemanager
    found = {}
    for name in _CONFIG_ALL:
        definitions = manager.getfixturedefs(name, request.node)
        found[name] = definitions[-1] if definitions else None
    return found


def _refuse_late_overrides(request: pytest.FixtureRequest) -> None:
    """The first test to use the emulator started it: a later test that sees another definition
    of a config fixture would silently run against the first one's configuration."""
    current = _definitions(request)
    first, started = request.config.stash.setdefault(_STARTED_WITH, (request.node.nodeid, current))
    for name, definition in current.items():
        if definition is not started[name]:
            raise pytest.UsageError(
                f"{name} for {request.node.nodeid} comes from {_where(definition)}, but the "
                f"session emulator was started by {first} with the one from "
                f"{_where(started[name])}: session fixtures are built once per session (per "
                "xdist worker), so this override would be silently ignored. Define it once, in "
                "the rootdir's conftest.py, or start your own EmulatorServer for these tests."
            )


def _where(definition: object) -> str:
    return getattr(definition, "baseid", "") or "a plugin"
