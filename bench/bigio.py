"""One big object through one connection: PUT from a file with sendfile, GET into a reused buffer.

The client does as little as a client can (no hashing, no copies into Python objects), so the
MB/s measured is the server's.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
from pathlib import Path

from .procs import HOST

BUFFER = 1024 * 1024


def make_file(path: Path, size: int) -> Path:
    """``size`` bytes of random data (reused across runs and peers)."""
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(BUFFER)
    with open(path, "wb") as f:
        for _ in range(size // BUFFER):
            f.write(block)
        f.write(block[: size % BUFFER])
    return path


def _extra(headers: dict[str, str] | None) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())


def put_file(port: int, target: str, path: Path, headers: dict[str, str] | None = None) -> float:
    """PUT the file at ``path``; returns seconds until the answer (which must be 2xx)."""
    size = path.stat().st_size
    with socket.create_connection((HOST, port), timeout=300) as sock, open(path, "rb") as f:
        head = (
            f"PUT {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Length: {size}\r\n"
            f"{_extra(headers)}Connection: close\r\n\r\n"
        )
        started = time.perf_counter()
        sock.sendall(head.encode())
        sock.sendfile(f)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        elapsed = time.perf_counter() - started
    if resp.status >= 300:
        raise RuntimeError(f"PUT {target}: {resp.status} {body[:300]!r}")
    return elapsed


def get_to_nowhere(
    port: int, target: str, expected: int, headers: dict[str, str] | None = None
) -> float:
    """GET ``target`` and drop the bytes; returns seconds until the last byte arrived."""
    buf = memoryview(bytearray(BUFFER))
    with socket.create_connection((HOST, port), timeout=300) as sock:
        started = time.perf_counter()
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{_extra(headers)}"
            "Connection: close\r\n\r\n".encode()
        )
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        if resp.status >= 300:
            raise RuntimeError(f"GET {target}: {resp.status} {resp.read(300)!r}")
        received = 0
        while n := resp.readinto(buf):
            received += n
        elapsed = time.perf_counter() - started
    if received != expected:
        raise RuntimeError(f"GET {target}: {received} bytes, expected {expected}")
    return elapsed
