"""A client that stops sending its body gets 400 RequestTimeout, and cannot starve others.

Real OSS (like S3) answers an upload body that goes silent with ``400 RequestTimeout`` and
drops the connection. The limit is on idle time between bytes, so a slow but moving upload
still lands. Each case runs against both servers: the in-process Werkzeug one the fixtures use
and ``ossemu serve`` (gunicorn), whose fixed thread pool stalled uploads could otherwise fill.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from ossemu.client.auth import OssAuth
from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer
from tests.reliability.helpers import (
    KEY_ID,
    SECRET,
    SIGNER,
    ServeProcess,
    raw_request,
    signed_headers,
    temp_files,
)
from tests.support import INNER_PYTEST, RawResponse, parse_response, target, wire

BUCKET = "slow-senders"
BODY_TIMEOUT = 0.5
#: Bytes a second: the slow but moving upload below (5 KB/s) stays above it.
MIN_RATE = 1000
#: Generous bound on any single answer, so a regression fails instead of hanging.
ANSWER_WITHIN = 15.0
TIMEOUT_MESSAGE = (
    b"<Message>Your socket connection to the server was not read from or written to within "
    b"the timeout period.</Message>"
)


@dataclass
class Target:
    name: str
    port: int
    data_dir: Path
    #: What went wrong on the server's side so far: 500s, tracebacks, server errors logged.
    problems: Callable[[], list[str]] = list

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Complaints(logging.Handler):
    """Werkzeug's own warnings and errors (a failed request, a traceback), kept for the test."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module", params=["in-process", "serve"])
def server(request, tmp_path_factory) -> Iterator[Target]:
    """An emulator with ``body_timeout=0.5``, ``body_min_rate=1000``: EmulatorServer(config),
    or ``ossemu serve``."""
    data_dir = tmp_path_factory.mktemp(f"slow-{request.param}") / "data"
    if request.param == "in-process":
        config = EmulatorConfig(
            data_dir=data_dir,
            port=0,
            access_key_id=KEY_ID,
            access_key_secret=SECRET,
            body_timeout=BODY_TIMEOUT,
            body_min_rate=MIN_RATE,
        )
        complaints = _Complaints()
        logging.getLogger("werkzeug").addHandler(complaints)
        try:
            with EmulatorServer(config) as emulator:

                def problems() -> list[str]:
                    lines, complaints.lines = complaints.lines, []
                    return [repr(e) for e in emulator.services.take_errors()] + lines

                yield _with_bucket(Target("in-process", emulator.port, data_dir, problems))
        finally:
            logging.getLogger("werkzeug").removeHandler(complaints)
        return
    process = ServeProcess(
        data_dir, "--body-timeout", str(BODY_TIMEOUT), "--body-min-rate", str(MIN_RATE)
    )

    def tracebacks() -> list[str]:
        return [line for line in process.log_text().splitlines() if "Traceback" in line]

    try:
        yield _with_bucket(Target("serve", process.port, data_dir, tracebacks))
    finally:
        assert process.stop() == 0
    assert tracebacks() == [], "tracebacks in the serve log"


@pytest.fixture(autouse=True)
def _server_stays_quiet(request) -> Iterator[None]:
    """Each test that used a server leaves no 500, traceback or server error behind."""
    yield
    if "server" in request.fixturenames:
        assert request.getfixturevalue("server").problems() == []


def _with_bucket(t: Target) -> Target:
    assert raw_request(t.port, "PUT", BUCKET, None).status == 200
    return t


def start_upload(
    port: int,
    key: str | None,
    headers: dict[str, str],
    params: tuple[tuple[str, str], ...] = (),
    method: str = "PUT",
) -> socket.socket:
    """Send a signed request's head (keep-alive, as SDKs do) and none of its body yet."""
    signed = signed_headers(method, BUCKET, key, params, headers)
    head = f"{method} {target(BUCKET, key, params)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
    sock.sendall(wire(head))
    return sock


def answer(sock: socket.socket) -> RawResponse:
    """Everything the server sends until it closes the connection (within ANSWER_WITHIN)."""
    with sock:
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return parse_response(b"".join(chunks))


def assert_request_timeout(response: RawResponse) -> None:
    assert (response.status, response.code) == (400, "RequestTimeout"), response.body[:300]
    assert TIMEOUT_MESSAGE in response.body
    assert b"<RequestId>" in response.body


def assert_nothing_stored(t: Target, key: str) -> None:
    got = raw_request(t.port, "GET", BUCKET, key)
    assert (got.status, got.code) == (404, "NoSuchKey")
    assert temp_files(t.data_dir) == []


# -- a body that stops -----------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_put_object_that_stalls_half_way_gets_request_timeout_and_stores_nothing(server, framing):
    key = f"stalled-{framing}"
    if framing == "chunked":
        sock = start_upload(server.port, key, {"Transfer-Encoding": "chunked"})
        sock.sendall(b"a\r\n01234")  # a chunk of 10 bytes announced, 5 sent
    else:
        sock = start_upload(server.port, key, {"Content-Length": "10"})
        sock.sendall(b"01234")

    assert_request_timeout(answer(sock))  # and the server closed the connection
    assert_nothing_stored(server, key)


def test_upload_part_that_stalls_leaves_no_part(server):
    created = raw_request(server.port, "POST", BUCKET, "stalled-part", params=[("uploads", "")])
    upload_id = created.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    params = (("partNumber", "1"), ("uploadId", upload_id))
    sock = start_upload(server.port, "stalled-part", {"Content-Length": "4096"}, params)
    sock.sendall(b"x" * 2048)

    assert_request_timeout(answer(sock))
    parts = raw_request(
        server.port, "GET", BUCKET, "stalled-part", params=[("uploadId", upload_id)]
    )
    assert parts.status == 200 and b"<Part>" not in parts.body
    assert temp_files(server.data_dir) == []


def test_delete_multiple_objects_whose_xml_stalls_deletes_nothing(server):
    assert raw_request(server.port, "PUT", BUCKET, "survivor", body=b"still here").status == 200
    xml = b"<Delete><Quiet>true</Quiet><Object><Key>survivor</Key></Object></Delete>"
    sock = start_upload(
        server.port, None, {"Content-Length": str(len(xml))}, (("delete", ""),), "POST"
    )
    sock.sendall(xml[:20])

    assert_request_timeout(answer(sock))
    assert raw_request(server.port, "GET", BUCKET, "survivor").body == b"still here"


# -- slow is not stalled ---------------------------------------------------------------------


def test_slow_but_moving_upload_is_stored_whole(server):
    """Ten pieces 0.2 s apart: 2 s in all, four times the idle limit, never idle past it."""
    pieces = [bytes([65 + n]) * 1000 for n in range(10)]
    length = str(sum(map(len, pieces)))
    sock = start_upload(server.port, "slow", {"Content-Length": length, "Connection": "close"})
    for piece in pieces:
        time.sleep(0.2)
        sock.sendall(piece)

    assert answer(sock).status == 200
    got = raw_request(server.port, "GET", BUCKET, "slow")
    assert (got.status, got.body) == (200, b"".join(pieces))


def send(
    session: requests.Session, method: str, url: str, key: str, **kw
) -> tuple[int, bytes, Any]:
    """(status, body, the client socket it went out on, None once the server closed it)."""
    with session.request(
        method, url, auth=OssAuth(SIGNER, BUCKET, key), stream=True, timeout=ANSWER_WITHIN, **kw
    ) as response:
        sock = response.raw.connection.sock if response.raw.connection else None
        return response.status_code, response.content, sock and sock.getsockname()


def test_keep_alive_connection_serves_requests_in_a_row(server):
    """The idle limit is lifted after each body: the kept-alive connection may rest past it."""
    used = []
    with requests.Session() as session:
        for n in range(3):
            key = f"kept-{n}"
            url = f"{server.url}/{BUCKET}/{key}"
            status, _, sock = send(session, "PUT", url, key, data=b"body %d" % n)
            assert status == 200
            time.sleep(BODY_TIMEOUT + 0.2)
            status, body, sock_again = send(session, "GET", url, key)
            assert (status, body) == (200, b"body %d" % n)
            used += [sock, sock_again]
    if server.name == "serve":  # Werkzeug closes every connection by design
        assert used[0] is not None and used == [used[0]] * 6, "not one kept-alive connection"


# -- starvation ------------------------------------------------------------------------------


def test_stalled_uploads_beyond_the_thread_pool_do_not_starve_other_clients(tmp_path):
    process = ServeProcess(
        tmp_path / "data", "--workers", "1", "--threads", "4", "--body-timeout", "1"
    )
    try:
        t = _with_bucket(Target("serve", process.port, tmp_path / "data"))
        stalled = []
        for n in range(8):  # twice the threads
            sock = start_upload(t.port, f"stalled-{n}", {"Content-Length": "10"})
            sock.sendall(b"01234")
            stalled.append(sock)

        started = time.monotonic()
        with requests.Session() as other:
            url = f"{t.url}/{BUCKET}/meanwhile"
            auth = OssAuth(SIGNER, BUCKET, "meanwhile")
            put = other.put(url, data=b"served", auth=auth, timeout=ANSWER_WITHIN)
            assert put.status_code == 200, put.text
            got = other.get(url, auth=auth, timeout=ANSWER_WITHIN)
            assert (got.status_code, got.content) == (200, b"served")
        waited = time.monotonic() - started
        assert waited < ANSWER_WITHIN, f"another client waited {waited:.1f}s for the stalled ones"

        for sock in stalled:
            assert_request_timeout(answer(sock))
        assert temp_files(t.data_dir) == []
    finally:
        process.ensure_stopped()
    assert "Traceback" not in process.log_text()


# -- configuration ---------------------------------------------------------------------------


def test_body_timeout_defaults_to_twenty_seconds():
    assert EmulatorConfig().body_timeout == 20.0


def test_serve_refuses_a_negative_body_timeout(capsys):
    from ossemu.emulator.cli import main

    assert main(["serve", "--port", "0", "--body-timeout", "-1"]) == 2
    assert "--body-timeout" in capsys.readouterr().err


def test_a_project_sets_the_body_timeout_by_overriding_the_config_fixture(pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def oss_emulator_config(oss_emulator_config):
            return oss_emulator_config.with_(body_timeout=0.5, auth=False)
    """)
    pytester.makepyfile("""
        import socket
        import requests

        def test_stalled_upload(oss_emulator):
            assert oss_emulator.config.body_timeout == 0.5
            assert requests.put(oss_emulator.url + "/mine").status_code == 200
            with socket.create_connection(("127.0.0.1", oss_emulator.port), timeout=15) as s:
                s.sendall(b"PUT /mine/k HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 9\\r\\n\\r\\n0")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            assert data.startswith(b"HTTP/1.1 400") and b"<Code>RequestTimeout</Code>" in data
    """)
    pytester.runpytest_subprocess(*INNER_PYTEST).assert_outcomes(passed=1)
