"""``Expect: 100-continue`` is granted only after the signature and route are checked (issue 15).

A badly signed upload must get its 403 without sending its body: the server answers with the
final status instead of ``100 Continue``, and closes the connection (the body never follows).
Raw sockets, against the in-process Werkzeug server and ``ossemu serve`` (gunicorn).
"""

from __future__ import annotations

import socket

from tests.reliability.helpers import BUCKET, signed_headers
from tests.support import parse_response, target, wire

BODY = b"b" * 100_000


def _head(server, key: str, headers: dict[str, str]) -> bytes:
    sent = {
        "Host": f"127.0.0.1:{server.port}",
        **headers,
        "Content-Length": str(len(BODY)),
        "Expect": "100-continue",
    }
    lines = "".join(f"{k}: {v}\r\n" for k, v in sent.items())
    return wire(f"PUT {target(BUCKET, key)} HTTP/1.1\r\n{lines}\r\n")


def _first_answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_badly_signed_upload_gets_403_before_sending_its_body(server):
    headers = signed_headers("PUT", BUCKET, "expect-bad", [])
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(_head(server, "expect-bad", headers))
        first = _first_answer(s)
        assert not first.startswith(b"HTTP/1.1 100"), "100 Continue before the signature check"
        rest = b""
        while chunk := s.recv(65536):  # the server closes: the body is not awaited
            rest += chunk
    response = parse_response(first + rest)
    assert (response.status, response.code) == (403, "SignatureDoesNotMatch")
    assert server.request("GET", BUCKET, "expect-bad").status == 404


def test_an_unknown_operation_is_refused_before_the_body(server):
    headers = signed_headers("PUT", BUCKET, "expect-odd", [("replication", "")])
    odd = b"expect-odd?replication HTTP"
    head = _head(server, "expect-odd", headers).replace(b"expect-odd HTTP", odd)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head)
        first = _first_answer(s)
    assert not first.startswith(b"HTTP/1.1 100")
    assert parse_response(first).status == 501


def test_a_well_signed_upload_gets_100_continue_then_200(server):
    headers = signed_headers("PUT", BUCKET, "expect-good", [])
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(_head(server, "expect-good", headers))
        interim = _first_answer(s)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        s.sendall(BODY)
        final = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :] or _first_answer(s)
    assert parse_response(final).status == 200
    assert server.request("GET", BUCKET, "expect-good").body == BODY
