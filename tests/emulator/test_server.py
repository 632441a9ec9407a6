"""The in-process server (``EmulatorServer``), as tests and tools start and stop it."""

from __future__ import annotations

import socket
import threading

from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer


def _serving_threads(port: int) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"ossemu-{port}" and t.is_alive()]


def test_a_server_started_then_entered_serves_once_and_stops_for_good(tmp_path):
    # ``with EmulatorServer(config).start() as server:`` starts it twice: the second start
    # used to run a second serving loop, which outlived stop() (and made it wait 5 s).
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path)).start() as server:
        port = server.port
        assert len(_serving_threads(port)) == 1
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    assert _serving_threads(port) == []
