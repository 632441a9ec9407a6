"""gunicorn, as ``ossemu serve`` runs it: the head of an answer rides with its body."""

from __future__ import annotations

import socket

import pytest
from gunicorn.config import Config
from gunicorn.http.wsgi import Response

from ossemu.emulator import gunicorn_patches


class Recording:
    """A socket that keeps what was sent, and with which flags."""

    def __init__(self) -> None:
        self.sends: list[tuple[bytes, int]] = []

    def sendall(self, data: bytes, flags: int = 0) -> None:
        self.sends.append((bytes(data), flags))


class Request:
    """The parts of a parsed gunicorn request that a Response reads."""

    version = (1, 1)

    def __init__(self, method: str) -> None:
        self.method = method

    def should_close(self) -> bool:
        return False


def answer(method: str, status: str, headers: list[tuple[str, str]], body: list[bytes]):
    gunicorn_patches.apply()
    sock = Recording()
    resp = Response(Request(method), sock, Config())
    resp.start_response(status, headers)
    for chunk in body:
        resp.write(chunk)
    resp.close()
    return sock.sends


def test_the_head_of_a_get_is_held_for_its_body():
    sends = answer("GET", "200 OK", [("Content-Length", "4")], [b"data"])
    assert [flags for _, flags in sends] == [socket.MSG_MORE, 0]
    assert sends[0][0].startswith(b"HTTP/1.1 200 OK\r\n") and sends[0][0].endswith(b"\r\n\r\n")
    assert b"Content-Length: 4\r\n" in sends[0][0] and sends[1][0] == b"data"


@pytest.mark.parametrize(
    "method,status,headers,body",
    [
        ("PUT", "200 OK", [("Content-Length", "0")], []),  # an upload's answer: no body
        ("GET", "200 OK", [("Content-Length", "0")], [b""]),  # an empty object
        ("HEAD", "200 OK", [("Content-Length", "4")], [b"data"]),  # a body never sent
        ("GET", "200 OK", [("Content-Length", "0")], [b"extra"]),  # bytes past the length
    ],
)
def test_a_head_without_body_bytes_behind_it_is_sent_at_once(method, status, headers, body):
    sends = answer(method, status, headers, body)
    assert sends[0][1] == 0 and all(flags == 0 for _, flags in sends)
