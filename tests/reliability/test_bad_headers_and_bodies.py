"""Bad headers and bodies: oversized or malformed header lines, lying lengths, broken chunking.

The HTTP server meets these first, so every case runs against both servers - the in-process
Werkzeug one the fixtures use and ``ossemu serve``: never a 500, nothing stored from a body that
did not arrive whole, and a slow sender does not stop other clients.
"""

from __future__ import annotations

import socket

import pytest
import requests

from tests.reliability.helpers import BUCKET, OBJECT, assert_error, signed_headers
from tests.support import (
    parse_response,
    raw_exchange,
    read_answer,
    send_head,
    target,
)

# -- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"x-oss-meta-big": "a" * 100_000}, {f"x-h{i}": "v" * 100 for i in range(500)}],
    ids=["one 100 KB header", "500 headers"],
)
def test_oversized_headers_are_refused_before_the_app(server, headers):
    response = server.request("GET", BUCKET, "obj", headers=headers)
    assert response.status in (400, 431)


@pytest.mark.parametrize(
    "raw_header",
    [b"X-A: a\rb", b"X-A: a\r\n b", b"NoColon", b"Bad Name: v", b"X-A: \x00"],
    ids=["bare CR", "obsolete folding", "no colon", "space in name", "NUL"],
)
def test_malformed_header_lines_never_reach_storage(server, raw_header):
    head = f"PUT {target(BUCKET, 'framing')} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
    signed = signed_headers("PUT", BUCKET, "framing", headers={"Content-Length": "1"})
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items() if k != "Content-Length")
    response = raw_exchange(
        server.port, head.encode() + raw_header + b"\r\nConnection: close\r\n\r\nx"
    )
    assert response.status != 500
    if response.status == 200:  # the server read the line leniently; nothing got split
        assert server.request("GET", BUCKET, "framing").body == b"x"


def test_an_overlong_request_line_is_refused_before_the_app(server):
    response = server.request("GET", BUCKET, "k" * 20_000)
    assert response.status in (400, 404, 414), response.body[:200]


def test_non_ascii_metadata_round_trips_as_bytes(server):
    value = "caf\u00e9 \u6f22\u5b57"  # sent as its UTF-8 bytes, signed as that text
    put = server.request("PUT", BUCKET, "meta", headers={"x-oss-meta-n": value}, body=b"m")
    assert put.status == 200
    got = server.request("GET", BUCKET, "meta")
    assert got.headers["x-oss-meta-n"].encode("latin-1").decode() == "caf\u00e9 \u6f22\u5b57"


@pytest.mark.parametrize(
    "value", ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "a\x7fb"], ids=["CRLF", "LF", "NUL", "DEL"]
)
def test_response_header_overrides_cannot_carry_control_characters(emulator, value):
    params = [("response-content-type", value)]
    assert_error(emulator.request("GET", BUCKET, "obj", params=params), 400, "InvalidArgument")


def test_response_header_override_with_utf8_is_sent_as_utf8_bytes(server):
    disposition = "attachment; filename=\u6f22\u5b57.txt"
    params = [("response-content-disposition", disposition)]
    got = server.request("GET", BUCKET, "obj", params=params)
    assert got.status == 200 and got.body == OBJECT
    assert got.headers["content-disposition"].encode("latin-1").decode() == disposition


def test_a_host_header_that_is_not_a_host_is_ignored(emulator):
    got = emulator.request("GET", BUCKET, "obj", headers={"Host": "[::1"})
    assert (got.status, got.body) == (200, OBJECT)


# -- bodies and their lengths --------------------------------------------------------------------


def _send_head(
    port: int,
    method: str,
    key: str,
    headers: dict[str, str],
    params: tuple[tuple[str, str], ...] = (),
) -> socket.socket:
    signed = signed_headers(method, BUCKET, key, params, headers)
    head = f"{method} {target(BUCKET, key, params)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + "\r\n"
    return send_head(port, head)


@pytest.mark.parametrize("length", ["abc", "-1", "0x10", "1, 1", "\u00b2", "1e3"], ids=repr)
def test_content_length_that_is_not_a_number_is_refused(server, length):
    sock = _send_head(server.port, "PUT", "cl", {"Content-Length": length})
    sock.sendall(b"x")
    sock.shutdown(socket.SHUT_WR)
    response = read_answer(sock)
    assert response.status == 400
    assert server.request("GET", BUCKET, "cl").status == 404


def test_part_body_shorter_than_its_content_length_is_incomplete(server):
    upload_id = server.upload_id("short-part")
    params = (("partNumber", "1"), ("uploadId", upload_id))
    sock = _send_head(server.port, "PUT", "short-part", {"Content-Length": "5000"}, params)
    sock.sendall(b"only part of it")
    sock.shutdown(socket.SHUT_WR)
    assert_error(read_answer(sock), 400, "IncompleteBody")
    listing = server.request("GET", BUCKET, "short-part", params=[("uploadId", upload_id)])
    assert b"<Part>" not in listing.body


@pytest.mark.parametrize("operation", ["PutObject", "UploadPart"])
def test_a_declared_length_over_5_gib_is_entity_too_large_before_any_body(server, operation):
    params: tuple[tuple[str, str], ...] = ()
    if operation == "UploadPart":
        params = (("partNumber", "1"), ("uploadId", server.upload_id("too-large")))
    head = {"Content-Length": str(5 * 1024**3 + 1)}
    sock = _send_head(server.port, "PUT", "too-large", head, params)
    answer = read_answer(sock)  # only the head was sent: the answer cannot have waited for a body
    assert_error(answer, 400, "EntityTooLarge")
    assert answer.headers["x-oss-ec"] == "0016-00000502"
    assert (
        b"<Message>Your proposed upload exceeds the maximum allowed size.</Message>" in answer.body
    )
    assert server.request("GET", BUCKET, "too-large").status == 404


def test_a_huge_declared_length_with_a_short_body_stores_nothing(server):
    sock = _send_head(server.port, "PUT", "huge", {"Content-Length": "9" * 25})
    sock.sendall(b"abc")
    sock.shutdown(socket.SHUT_WR)
    assert read_answer(sock).status == 400
    assert server.request("GET", BUCKET, "huge").status == 404


def test_bytes_beyond_the_content_length_are_not_part_of_the_object(server):
    got = server.request("PUT", BUCKET, "exact", headers={"Content-Length": "3"}, body=b"abcdef")
    assert got.status == 200
    assert server.request("GET", BUCKET, "exact").body == b"abc"


@pytest.mark.parametrize(
    "chunked",
    [b"zz\r\nx\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"5\r\nab", b"-1\r\nx\r\n0\r\n\r\n"],
    ids=["bad size", "size lies", "stops mid-chunk", "negative size"],
)
def test_malformed_chunked_bodies_store_nothing(server, chunked):
    sock = _send_head(server.port, "PUT", "chunky", {"Transfer-Encoding": "chunked"})
    sock.sendall(chunked)
    sock.shutdown(socket.SHUT_WR)
    response = read_answer(sock)
    assert response.status == 400, response.body[:300]
    assert response.code in ("IncompleteBody", ""), response.body[:300]  # "": HTTP-layer refusal
    assert server.request("GET", BUCKET, "chunky").status == 404


@pytest.mark.parametrize("length", ["5", "3", "100"])
def test_chunked_wins_over_content_length_and_nothing_is_smuggled_behind(server, length):
    # ali-oss sends both headers for a stream of known length; OSS takes the chunked body.
    # RFC 9112 6.3: the length is ignored and the connection closes after the answer.
    signed = signed_headers("PUT", BUCKET, "both-framings", headers={"Content-Length": length})
    head = f"PUT {target(BUCKET, 'both-framings')} HTTP/1.1\r\nHost: x\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items())
    head += "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    behind = signed_headers("PUT", BUCKET, "smuggled", headers={"Content-Length": "1"})
    head += f"PUT {target(BUCKET, 'smuggled')} HTTP/1.1\r\nHost: x\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in behind.items()) + "\r\nx"
    answer = read_answer(send_head(server.port, head))
    assert answer.status == 200 and answer.headers["connection"] == "close"
    assert answer.body.count(b"HTTP/1.1") == 0, "a second answer came on the same connection"
    assert server.request("GET", BUCKET, "both-framings").body == b"hello"
    assert server.request("GET", BUCKET, "smuggled").status == 404


@pytest.mark.parametrize("size", [1, 8 * 1024 * 1024])
def test_an_error_before_the_body_is_read_closes_and_says_so(server, size):
    # requests reuses the connection unless told it closes: the next call must not meet a
    # connection the server has dropped (RemoteDisconnected).
    url = f"http://127.0.0.1:{server.port}{target('no-such-bucket', 'k')}"
    with requests.Session() as session:
        refused = session.put(url, data=b"x" * size, timeout=30)  # NoSuchBucket: refused at once
        assert refused.status_code == 404 and refused.headers["Connection"] == "close"
        again = session.put(url, data=b"y", timeout=30)
        assert again.status_code == 404


def test_an_answer_after_the_body_was_read_keeps_the_connection_under_gunicorn(server):
    head = f"PUT {target(BUCKET, 'kept')} HTTP/1.1\r\nHost: x\r\n"
    signed = signed_headers("PUT", BUCKET, "kept", headers={"Content-Length": "4"})
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + "\r\nbody"
    sock = send_head(server.port, head)
    sock.settimeout(10)
    answer = parse_response(sock.recv(65536))
    sock.close()
    assert answer.status == 200
    assert answer.headers["connection"] == (
        "close" if server.name == "in-process" else "keep-alive"
    )


def test_slow_senders_do_not_stop_other_clients(server):
    """Uploads stall mid-body; others are served meanwhile, then the stalled ones finish."""
    stalled = []
    for n in range(2):
        sock = _send_head(server.port, "PUT", f"slow-{n}", {"Content-Length": "10"})
        sock.sendall(b"01234")
        stalled.append(sock)
    for n in range(5):
        assert server.request("PUT", BUCKET, f"meanwhile-{n}", body=b"fast").status == 200
        assert server.request("GET", BUCKET, "obj").body == OBJECT
    for sock in stalled:
        sock.sendall(b"56789")
    assert [read_answer(s).status for s in stalled] == [200] * 2
    assert server.request("GET", BUCKET, "slow-1").body == b"0123456789"
