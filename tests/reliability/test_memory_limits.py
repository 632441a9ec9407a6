"""Every memory limit holds however the bytes are framed (issue 15, "Memory").

A misbehaving app server (a raw socket server here) answers the callback with huge or endless
bodies in every framing: Content-Length and chunked together, chunked alone, no length, a 500.
The emulator reads at most 3 MB of it, answers 203 within its callback deadline, and neither its
memory nor its journal grows with what the app sent. Figures are bytes the app managed to send
and bytes stored, never timings.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from tests.reliability.helpers import BUCKET, ServeProcess, raw_request, rss_kb
from tests.support import b64json

MIB = 1024 * 1024
CAP = 3 * MIB


@dataclass
class Answer:
    head: bytes
    chunked: bool  # send the body as endless chunks (else raw bytes)
    limit: int = 300 * MIB  # the most the app would send


@dataclass
class HostileApp:
    """Answers every callback with ``answer`` and counts the body bytes it got out."""

    answer: Answer
    sent: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/cb"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        sent = 0
        with conn:
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                while length and len(body) < int(length.group(1)):  # read it all: no RST
                    body += conn.recv(65536)
                conn.sendall(self.answer.head)
                piece = b"x" * 65536
                frame = b"%x\r\n%s\r\n" % (len(piece), piece) if self.answer.chunked else piece
                while sent < self.answer.limit:
                    conn.sendall(frame)
                    sent += len(piece)
            except OSError:
                pass
        self.sent.append(sent)

    def close(self) -> None:
        self._listener.close()


ANSWERS = {
    "length-and-chunked": Answer(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", True
    ),
    "500-length-and-chunked": Answer(
        b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", True
    ),
    "chunked-alone": Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", True),
    "no-length": Answer(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", False),
    "500-no-length": Answer(b"HTTP/1.0 500 Oops\r\n\r\n", False),
    "length-too-big": Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 314572800\r\n\r\n", False),
    # 5.4 MB of headers before a valid JSON body: the cap counts the head too.
    "huge-head": Answer(
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"a" * 60_000) for n in range(90))
        + b"\r\n{}",
        False,
        limit=0,
    ),
}


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[ServeProcess]:
    process = ServeProcess(
        tmp_path_factory.mktemp("memory") / "data", "--workers", "1", "--callback-timeout", "3"
    )
    try:
        assert raw_request(process.port, "PUT", BUCKET, None).status == 200
        yield process
    finally:
        assert process.stop() == 0


@pytest.mark.parametrize("name", list(ANSWERS))
def test_app_answer_is_read_at_most_3_mb_whatever_its_framing(serve, name):
    app = HostileApp(ANSWERS[name])
    before = rss_kb(serve.pid)
    try:
        callback = b64json({"callbackUrl": app.url, "callbackBody": "k=${object}"})
        response = raw_request(
            serve.port,
            "PUT",
            BUCKET,
            f"big/{name}",
            headers={"x-oss-callback": callback},
            body=b"1",
        )
    finally:
        app.close()
    grown_mb = (rss_kb(serve.pid) - before) / 1024
    # The object is stored and the uploader gets OSS's 203, not the app's bytes.
    assert response.status == 203, response.body[:300]
    assert response.code == "CallbackFailed"
    assert len(response.body) < 4096
    assert grown_mb < 64, f"{name}: the server grew by {grown_mb:.0f} MB"
    # What the app got out is the cap plus what the kernel's socket buffers held.
    assert app.sent and max(app.sent) < CAP + 40 * MIB, f"{name}: {app.sent}"
    entries = requests.get(
        f"{serve.url}/_ossemu/callbacks", params={"key": f"big/{name}"}, timeout=30
    ).json()
    stored = len(json.dumps(entries))
    assert stored < 256 * 1024, f"{name}: the journal stored {stored} bytes"


def test_a_5_mb_answer_head_is_too_long_even_before_a_valid_body(serve):
    app = HostileApp(ANSWERS["huge-head"])
    try:
        callback = b64json({"callbackUrl": app.url, "callbackBody": "k=${object}"})
        response = raw_request(
            serve.port, "PUT", BUCKET, "head", headers={"x-oss-callback": callback}, body=b"1"
        )
    finally:
        app.close()
    assert response.status == 203
    assert b"too long content-length value" in response.body


def test_callback_timeout_is_a_total_deadline_for_a_trickling_answer(serve):
    """An app that answers one byte at a time never lets a single read time out."""

    class Trickle(HostileApp):
        def _answer(self, conn: socket.socket) -> None:
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    for _ in range(600):  # 1 byte per 0.05 s: 30 s in all
                        conn.sendall(b" ")
                        threading.Event().wait(0.05)
                except OSError:
                    pass

    app = Trickle(Answer(b"", False))
    try:
        callback = b64json({"callbackUrl": app.url, "callbackBody": "k=${object}"})
        response = raw_request(
            serve.port, "PUT", BUCKET, "trickle", headers={"x-oss-callback": callback}, body=b"1"
        )
    finally:
        app.close()
    assert response.status == 203
    assert b"reply timeout" in response.body


# -- the journal: bodies cut, bytes bounded, read a page at a time -------------------------------


def test_journal_cuts_a_1_5_mb_callback_body_and_marks_it_truncated(emulator):
    from ossemu.emulator.receiver import CallbackReceiver

    value = "v" * 3000
    with CallbackReceiver() as receiver:
        callback = b64json({"callbackUrl": receiver.url, "callbackBody": "${x:v}" * 550})
        headers = {"x-oss-callback": callback, "x-oss-callback-var": b64json({"x:v": value})}
        response = emulator.request("PUT", BUCKET, "fat-callback", headers=headers, body=b"1")
        assert response.status == 200, response.body[:300]
        (got,) = receiver.wait_for(1)
    assert len(got.body) == 1_650_000  # the app server still gets the whole body
    (entry,) = requests.get(
        f"http://127.0.0.1:{emulator.port}/_ossemu/callbacks", params={"key": "fat-callback"}
    ).json()
    sent = entry["attempts"][0]["request"]
    assert sent["body_truncated"] is True
    assert sent["body_size"] == 1_650_000
    assert sent["body"] == "v" * 64 * 1024


def test_journal_stays_within_its_byte_budget(tmp_path):
    from ossemu.emulator.callbacks.journal import CallbackJournal

    journal = CallbackJournal(tmp_path / "journal.sqlite3", max_bytes=MIB)
    for number in range(200):
        journal.record({"bucket": "b", "key": f"k{number}", "blob": "x" * 60_000})
    assert journal.size() <= MIB + MIB // 10
    kept = journal.entries()
    assert kept[-1]["key"] == "k199"  # the newest stay
    assert 10 < len(kept) < 200


def test_journal_get_pages_with_limit_and_after(emulator):
    base = f"http://127.0.0.1:{emulator.port}/_ossemu/callbacks"
    requests.delete(base)
    from ossemu.emulator.receiver import CallbackReceiver

    with CallbackReceiver() as receiver:
        callback = b64json({"callbackUrl": receiver.url, "callbackBody": "k=${object}"})
        for number in range(5):
            headers = {"x-oss-callback": callback}
            emulator.request("PUT", BUCKET, f"paged/{number}", headers=headers, body=b"1")
    everything = requests.get(base).json()
    assert [e["key"] for e in everything] == [f"paged/{n}" for n in range(5)]
    keys, after = [], "0"
    while True:
        page = requests.get(base, params={"limit": 2, "after": after})
        keys += [e["key"] for e in page.json()]
        assert len(page.json()) <= 2
        if "X-Ossemu-Next-After" not in page.headers:
            break
        after = page.headers["X-Ossemu-Next-After"]
    assert keys == [f"paged/{n}" for n in range(5)]
    assert requests.get(base, params={"limit": "0x10"}).status_code == 400
