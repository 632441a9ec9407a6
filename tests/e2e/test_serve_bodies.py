"""Upload bodies under ``ossemu serve`` (gunicorn): each request gets exactly its own bytes,
however they arrive, and the connection serves on.

Tried: a 24 MiB body (read a page short first: ``routes.body.FIRST_CHUNK``) and a second
request on the same kept-alive connection; three requests sent in one write, two of them uploads
whose bodies arrive with their heads; a client that hangs up 3 MiB into an 8 MiB body; a body
that arrives in small pieces with pauses between them.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
from collections.abc import Iterator

import pytest

from tests.reliability.helpers import ServeProcess, signed_headers
from tests.support import parse_response, target

BUCKET = "bodies"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path_factory.mktemp("bodies") / "data")
    try:
        assert request(process.port, "PUT", None) == 200
        yield process
    finally:
        process.stop()
    assert "Traceback" not in process.log_text()


def request(port: int, method: str, key: str | None, body: bytes = b"") -> int:
    """One request on a connection of its own: the answer's status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return send(conn, method, key, body).status
    finally:
        conn.close()


def fetch(port: int, key: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return read_back(conn, key)
    finally:
        conn.close()


def send(
    conn: http.client.HTTPConnection, method: str, key: str | None, body: bytes = b""
) -> http.client.HTTPResponse:
    headers = signed_headers(method, BUCKET, key)
    conn.request(method, target(BUCKET, key, []), body=body or None, headers=headers)
    response = conn.getresponse()
    response.read()
    return response


def head_of(method: str, key: str, length: int) -> bytes:
    headers = signed_headers(method, BUCKET, key)
    headers.update({"Host": "127.0.0.1", "Content-Length": str(length)})
    lines = [f"{method} {target(BUCKET, key, [])} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """``count`` answers off one connection, split by their Content-Length."""
    data, answers = b"", []
    while len(answers) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            response = parse_response(data[: head_end + 4])
            size = int(response.headers.get("content-length", "0"))
            if len(data) >= head_end + 4 + size:
                answers.append((response.status, data[head_end + 4 : head_end + 4 + size]))
                data = data[head_end + 4 + size :]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(answers)} answers"
        data += chunk
    return answers


def test_a_big_upload_lands_whole_and_its_connection_serves_the_next_request(serve):
    data = os.urandom(24 * MIB + 123)
    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=60)
    try:
        assert send(conn, "PUT", "big", data).status == 200
        kept = conn.sock
        body = read_back(conn, "big")
        assert conn.sock is kept, "the connection was not kept after the upload"
    finally:
        conn.close()
    assert hashlib.md5(body).digest() == hashlib.md5(data).digest()


def test_pipelined_uploads_each_get_their_own_body(serve):
    one, two = b"first body", b"the second, longer body"
    get = signed_headers("GET", BUCKET, "one")
    get_head = f"GET {target(BUCKET, 'one', [])} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    get_head += "".join(f"{k}: {v}\r\n" for k, v in get.items()) + "\r\n"
    wire = head_of("PUT", "one", len(one)) + one + head_of("PUT", "two", len(two)) + two
    with socket.create_connection(("127.0.0.1", serve.port), timeout=30) as sock:
        sock.sendall(wire + get_head.encode())
        answers = read_answers(sock, 3)
    assert [status for status, _ in answers] == [200, 200, 200]
    assert answers[2][1] == one
    assert fetch(serve.port, "two") == two


def read_back(conn: http.client.HTTPConnection, key: str) -> bytes:
    conn.request("GET", target(BUCKET, key, []), headers=signed_headers("GET", BUCKET, key))
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200, body
    return body


def test_a_client_that_hangs_up_mid_body_stores_nothing_and_others_are_served(serve):
    with socket.create_connection(("127.0.0.1", serve.port), timeout=30) as sock:
        sock.sendall(head_of("PUT", "cut", 8 * MIB))
        sock.sendall(os.urandom(3 * MIB))
    time.sleep(0.5)  # the server sees the end of input and gives up on the body
    assert request(serve.port, "HEAD", "cut") == 404
    assert request(serve.port, "PUT", "after", b"still served") == 200
    assert fetch(serve.port, "after") == b"still served"


def test_a_body_in_small_pieces_with_pauses_lands_whole(serve):
    data = os.urandom(2 * MIB + 7)
    with socket.create_connection(("127.0.0.1", serve.port), timeout=30) as sock:
        sock.sendall(head_of("PUT", "pieces", len(data)))
        for start in range(0, len(data), 256 * 1024):
            sock.sendall(data[start : start + 256 * 1024])
            time.sleep(0.02)
        [(status, _)] = read_answers(sock, 1)
    assert status == 200
    assert fetch(serve.port, "pieces") == data
