"""One process keeps serving while slow and hostile clients hold connections (issue 15).

Each case starts ``ossemu serve`` with one worker, so a thread pool that fills up shows at once,
holds some connections in a slow state, and checks that other clients are answered meanwhile,
or that the slow ones are cut off with the answer OSS gives. Loops are bounded; a regression
fails on a client timeout instead of hanging. The figures under the full combined attack come
from ``measure_availability.py`` (README, "Reliability").
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer
from tests.reliability.helpers import (
    KEY_ID,
    SECRET,
    ServeProcess,
    raw_request,
    signed_headers,
)
from tests.support import RawResponse, SilentAppServer, b64json, parse_response, target, wire

BUCKET = "availability"
PARTIAL_HEAD = b"GET /_ossemu/health HTTP/1.1\r\nHost: x\r\n"
#: A generous bound on one answer: past it the server is taken as not answering.
ANSWER_WITHIN = 10.0


def _serve(tmp_path: Path, *args: str) -> ServeProcess:
    serve = ServeProcess(tmp_path / "data", "--workers", "1", *args)
    assert raw_request(serve.port, "PUT", BUCKET, None).status == 200
    return serve


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    """``ossemu serve`` with one worker and otherwise default limits."""
    process = _serve(tmp_path)
    try:
        yield process
    finally:
        assert process.stop() == 0


def _health(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN) as s:
        s.sendall(b"GET /_ossemu/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return parse_response(data).status


def _partial_heads(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
        s.sendall(PARTIAL_HEAD)
        socks.append(s)
    return socks


def _closed_by_server(sock: socket.socket) -> bool:
    """The server closed the connection without an answer (within ANSWER_WITHIN)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _upload_head(port: int, key: str, headers: dict[str, str]) -> socket.socket:
    signed = signed_headers("PUT", BUCKET, key, (), headers)
    head = f"PUT {target(BUCKET, key, ())} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
    sock.sendall(wire(head))
    return sock


def _answer(sock: socket.socket) -> RawResponse:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return parse_response(data)


# -- request heads ---------------------------------------------------------------------------


def test_health_answers_while_200_partial_heads_are_held(serve):
    """200 sockets send half a head and stop: with one worker of 256 threads, or of 8 as
    before, the health check and a PUT/GET still answer, since no thread waits on a head."""
    held = _partial_heads(serve.port, 200)
    try:
        assert _health(serve.port) == 200
        assert raw_request(serve.port, "PUT", BUCKET, "k", body=b"v" * 4096).status == 200
        assert raw_request(serve.port, "GET", BUCKET, "k").body == b"v" * 4096
    finally:
        for s in held:
            s.close()


def test_health_answers_with_8_threads_while_partial_heads_are_held(tmp_path):
    """The fix is not just more threads: 8 threads, 64 half-sent heads."""
    serve = _serve(tmp_path, "--threads", "8")
    held = _partial_heads(serve.port, 64)
    try:
        assert _health(serve.port) == 200
    finally:
        for s in held:
            s.close()
        assert serve.stop() == 0


def test_partial_head_is_dropped_after_the_head_timeout(tmp_path):
    """A head still incomplete after --head-timeout is dropped, even one that keeps moving."""
    serve = _serve(tmp_path, "--head-timeout", "1")
    try:
        silent = _partial_heads(serve.port, 1)[0]
        moving = socket.create_connection(("127.0.0.1", serve.port), timeout=ANSWER_WITHIN)
        moving.sendall(b"GET /_ossemu/health HTTP/1.1\r\n")
        for n in range(40):  # a header byte every 0.1 s: never idle, never complete
            try:
                moving.sendall(b"X-Slow: %d\r\n" % n)
            except OSError:
                break
            time.sleep(0.1)
        assert _closed_by_server(silent)
        assert _closed_by_server(moving)
        silent.close()
        moving.close()
        assert _health(serve.port) == 200
    finally:
        assert serve.stop() == 0


def test_head_sent_in_pieces_and_kept_alive_connections_are_served(serve):
    """Heads that arrive in pieces, and requests in a row on one kept-alive connection (the
    third one's first piece pipelined behind the second), are answered as before."""
    request = b"GET /_ossemu/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", serve.port), timeout=ANSWER_WITHIN) as s:
        for piece in (request[:10], request[10:30], request[30:]):
            s.sendall(piece)
            time.sleep(0.1)
        s.sendall(request + request[:20])
        time.sleep(0.2)
        s.sendall(request[20:-2] + b"Connection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 3


def test_a_kept_alive_connection_that_stalls_mid_head_does_not_keep_its_thread(tmp_path):
    """After an answer the thread waits a moment for the connection's next head: one that
    arrives half and stops goes back to the event loop, so with a single thread another client
    is still answered at once, and the stalled head, once finished, is answered too."""
    serve = _serve(tmp_path, "--threads", "1", "--head-timeout", "30")
    request = b"GET /_ossemu/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    try:
        with socket.create_connection(("127.0.0.1", serve.port), timeout=ANSWER_WITHIN) as s:
            s.sendall(request + request[:20])  # the second head stops half-way
            first = s.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 OK")
            started = time.monotonic()
            assert _health(serve.port) == 200
            assert time.monotonic() - started < 3  # not after the 30 s head timeout
            s.sendall(request[20:-2] + b"Connection: close\r\n\r\n")
            rest = b""
            while chunk := s.recv(65536):
                rest += chunk
        assert (first + rest).count(b"HTTP/1.1 200 OK") == 2
    finally:
        assert serve.stop() == 0


def test_a_connection_busy_with_requests_in_a_row_does_not_starve_the_others(tmp_path):
    """One thread; one client keeps a request queued behind each one it sends, for 3 s.
    The thread keeps a connection only while nobody else waits for it: another client's
    request is answered at once, not after the busy one stops."""
    serve = _serve(tmp_path, "--threads", "1")
    request = b"GET /_ossemu/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    stop = time.monotonic() + 3
    answered = [0]

    def busy() -> None:
        """Always one request ahead: the next head is there before each answer leaves."""
        with socket.create_connection(("127.0.0.1", serve.port), timeout=ANSWER_WITHIN) as s:
            s.sendall(request)
            seen = b""
            while time.monotonic() < stop:
                s.sendall(request)
                while seen.count(b"HTTP/1.1 200") <= answered[0]:
                    seen += s.recv(65536)
                answered[0] += 1

    worker = threading.Thread(target=busy)
    try:
        worker.start()
        time.sleep(0.5)
        started = time.monotonic()
        assert _health(serve.port) == 200
        assert time.monotonic() - started < 1, "the other client waited for the busy one"
        assert time.monotonic() < stop  # measured while the busy client was still at it
    finally:
        worker.join(timeout=ANSWER_WITHIN)
        assert serve.stop() == 0
    assert answered[0] > 10


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[EmulatorServer]:
    config = EmulatorConfig(
        data_dir=tmp_path / "data",
        port=0,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        head_timeout=0.5,
    )
    with EmulatorServer(config) as emulator:
        yield emulator


def test_in_process_server_drops_a_partial_head_after_the_head_timeout(in_process):
    """The fixtures' server (a thread a connection) drops half-sent heads too, moving or not."""
    silent = _partial_heads(in_process.port, 1)[0]
    moving = socket.create_connection(("127.0.0.1", in_process.port), timeout=ANSWER_WITHIN)
    moving.sendall(b"GET /_ossemu/health HTTP/1.1\r\n")
    for n in range(30):
        try:
            moving.sendall(b"X-Slow: %d\r\n" % n)
        except OSError:
            break
        time.sleep(0.1)
    with silent, moving:
        assert _closed_by_server(silent)
        assert _closed_by_server(moving)
    assert _health(in_process.port) == 200


# -- bodies ----------------------------------------------------------------------------------


def _trickle_until_answered(port: int, key: str) -> RawResponse:
    """1000 bytes declared, one sent every 0.1 s (never idle for 0.5 s): the answer."""
    sock = _upload_head(port, key, {"Content-Length": "1000"})
    stop = threading.Event()

    def trickle() -> None:
        for _ in range(1000):
            if stop.wait(0.1):
                return
            try:
                sock.sendall(b"x")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        return _answer(sock)
    finally:
        stop.set()
        sender.join()
        sock.close()


def test_trickling_upload_is_cut_off_below_the_minimum_rate(tmp_path):
    """A byte every 0.1 s never trips the 0.5 s idle limit; below 1000 bytes/s the body must
    be in by 0.5 s + 1000 B / 1000 B/s, and the client gets 400 RequestTimeout."""
    serve = _serve(tmp_path, "--body-timeout", "0.5", "--body-min-rate", "1000")
    try:
        response = _trickle_until_answered(serve.port, "trickled")
        assert (response.status, response.code) == (400, "RequestTimeout")
        assert raw_request(serve.port, "GET", BUCKET, "trickled").status == 404
    finally:
        assert serve.stop() == 0


def test_in_process_server_cuts_off_a_trickling_upload(tmp_path):
    config = EmulatorConfig(
        data_dir=tmp_path / "data",
        port=0,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        body_timeout=0.5,
        body_min_rate=1000,
    )
    with EmulatorServer(config) as emulator:
        assert raw_request(emulator.port, "PUT", BUCKET, None).status == 200
        response = _trickle_until_answered(emulator.port, "trickled")
        assert (response.status, response.code) == (400, "RequestTimeout")


# -- callbacks -------------------------------------------------------------------------------


def _uploads(port: int, keys: list[str], callback_url: str) -> tuple[list, list[threading.Thread]]:
    callback = b64json({"callbackUrl": callback_url, "callbackBody": "k=${object}"})
    answers: list = []

    def upload(key: str) -> None:
        answers.append(
            raw_request(
                port,
                "PUT",
                BUCKET,
                key,
                headers={"x-oss-callback": callback},
                body=b"1",
                timeout=60,
            )
        )

    threads = [threading.Thread(target=upload, args=(k,), daemon=True) for k in keys]
    for t in threads:
        t.start()
    return answers, threads


def test_uploads_waiting_on_callbacks_do_not_starve_other_clients(tmp_path):
    """24 uploads whose app server never answers all wait on it at once, and meanwhile (before
    any of them is answered) the health check and a PUT/GET are served."""
    serve = _serve(tmp_path, "--callback-timeout", "8")
    app = SilentAppServer()
    try:
        answers, threads = _uploads(serve.port, [f"wait-{n}" for n in range(24)], app.url)
        deadline = time.monotonic() + 6
        while len(app.held) < 24 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(app.held) == 24, "every upload is waiting on its callback at once"
        assert _health(serve.port) == 200
        assert raw_request(serve.port, "PUT", BUCKET, "k", body=b"v" * 4096).status == 200
        assert raw_request(serve.port, "GET", BUCKET, "k").status == 200
        assert answers == [], "the other clients were served while the callbacks waited"
        app.close()  # the app server hangs up: no need to wait out the 8 s limit
        for t in threads:
            t.join()
        assert [a.status for a in answers] == [203] * 24
    finally:
        app.close()
        assert serve.stop() == 0


def test_callbacks_to_the_emulator_itself_get_an_answer(serve):
    """32 uploads at once whose callback URL is the emulator: each inner request is served
    (an answer from the emulator, not the callback timeout)."""
    url = f"http://127.0.0.1:{serve.port}/{BUCKET}/callback-target"
    answers, threads = _uploads(serve.port, [f"self-{n}" for n in range(32)], url)
    for t in threads:
        t.join()
    assert len(answers) == 32
    timed_out = [a for a in answers if b"reply timeout" in a.body]
    assert timed_out == []
