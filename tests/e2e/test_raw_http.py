"""What only a raw socket can send: no length, a lying length, a body that stops, 100-continue."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
import requests

from ossemu.emulator.protocol.errors import OssError


@pytest.fixture
def bucket_url(oss_bucket, oss_emulator):
    return f"{oss_emulator.url}/{oss_bucket.name}"


@pytest.fixture
def raw(oss_emulator, monkeypatch):
    """Send raw bytes to a lenient (auth off) view of the session emulator."""
    monkeypatch.setattr(
        oss_emulator.services, "config", oss_emulator.services.config.with_(auth=False)
    )
    host, port = "127.0.0.1", oss_emulator.port

    def send(data: bytes, *, then_close: bool = False, read: bool = True) -> bytes:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(data)
            if then_close:
                s.shutdown(socket.SHUT_WR)
            if not read:
                return b""
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)

    return send


def key() -> str:
    return f"raw-{uuid.uuid4().hex[:8]}"


def status_and_code(response: bytes) -> tuple[int, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    code = body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in body else ""
    return status, code


def test_put_without_length_or_chunking_is_411(raw, oss_bucket):
    k = key()
    response = raw(
        f"PUT /{oss_bucket.name}/{k} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status_and_code(response) == (411, "MissingContentLength")


def test_body_shorter_than_content_length_stores_nothing(raw, oss_bucket, oss_emulator):
    k = key()
    raw(
        f"PUT /{oss_bucket.name}/{k} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode()
        + b"only-a-little",
        then_close=True,
    )
    time.sleep(0.2)
    with pytest.raises(OssError):
        oss_emulator.services.storage.head_object(oss_bucket.name, k)
    assert not list((oss_emulator.config.data_dir / "tmp").iterdir())


def test_expect_100_continue(raw, oss_bucket, oss_emulator):
    k = key()
    with socket.create_connection(("127.0.0.1", oss_emulator.port), timeout=5) as s:
        s.sendall(
            f"PUT /{oss_bucket.name}/{k} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n".encode()
        )
        assert s.recv(100).startswith(b"HTTP/1.1 100")
        s.sendall(b"hello")
        response = b""
        while chunk := s.recv(65536):
            response += chunk
    assert b" 200 " in response.split(b"\r\n")[0] or b"HTTP/1.1 200" in response
    assert requests.get(f"{oss_emulator.url}/{oss_bucket.name}/{k}").status_code in (200, 403)


def test_chunked_put_with_a_raw_socket(raw, oss_bucket, oss_emulator):
    k = key()
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    response = raw(
        f"PUT /{oss_bucket.name}/{k} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
        "\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    assert status_and_code(response)[0] == 200
    meta, f = oss_emulator.services.storage.open_object(oss_bucket.name, k)
    with f:
        assert f.read() == b"hello world"
