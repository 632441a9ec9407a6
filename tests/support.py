"""What several test modules need: base64 and MD5 shapes, and raw HTTP spoken byte for byte.

Imported as ``from tests.support import ...`` (the suite runs with ``--import-mode=importlib``
from the repository root). Signing stays with each suite's own keys: see
``tests/reliability/helpers.py`` for signed raw requests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

#: Options for a pytest run inside a test (a user's project, as pytester makes one). Hypothesis's
#: own pytest plugin, loaded by every pytest process where hypothesis is installed, took 1.6 s of
#: each such run's 2-3 s here; no inner run uses it.
INNER_PYTEST = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

# PostObject policy vectors (docs/direct-upload.md 1.10): the Java SDK's V1 policy and a V4 one.
JAVA_SECRET = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
JAVA_POLICY = (
    "eyJleHBpcmF0aW9uIjoiMjAyMC0wMy0xOVQwMzo0NDowNi40NzZaIiwiY29uZGl0aW9ucyI6W3siYnVja2V0Ijoi"
    "Z2VuLXBvc3QtcG9saWN5In0sWyJlcSIsIiRrZXkiLCJ1c2VyXC9lcmljXC9cXCR7ZmlsZW5hbWV9Il0sWyJzdGFy"
    "dHMtd2l0aCIsIiRrZXkiLCJ1c2VyXC9lcmljIl0sWyJzdGFydHMtd2l0aCIsIiR4LW9zcy1tZXRhLXRhZyIsImR1"
    "bW15X2V0YWciXSxbImNvbnRlbnQtbGVuZ3RoLXJhbmdlIiwxLDEwMjRdXX0="
)
V4_POLICY = (
    "eyJleHBpcmF0aW9uIjoiMjAyMy0xMi0wM1QxMzowMDowMC4wMDBaIiwiY29uZGl0aW9ucyI6W3siYnVja2V0Ijoi"
    "ZXhhbXBsZWJ1Y2tldCJ9LHsieC1vc3Mtc2lnbmF0dXJlLXZlcnNpb24iOiJPU1M0LUhNQUMtU0hBMjU2In0seyJ4"
    "LW9zcy1jcmVkZW50aWFsIjoiYWsvMjAyMzEyMDMvY24taGFuZ3pob3Uvb3NzL2FsaXl1bl92NF9yZXF1ZXN0In0s"
    "eyJ4LW9zcy1kYXRlIjoiMjAyMzEyMDNUMTIxMjEyWiJ9LFsiY29udGVudC1sZW5ndGgtcmFuZ2UiLDEsMTAyNF1d"
    "fQ=="
)


def b64(data: str | bytes) -> str:
    """Base64 of text (UTF-8) or bytes, as a header value."""
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def b64json(value: object) -> str:
    """Base64 of a JSON document (``x-oss-callback``); bytes are taken as they are."""
    return b64(value if isinstance(value, bytes) else json.dumps(value).encode())


def md5_b64(data: bytes) -> str:
    """The ``Content-MD5`` of ``data``."""
    return b64(hashlib.md5(data).digest())


def target(bucket: str | None, key: str | None, params: Iterable[tuple[str, str]] = ()) -> str:
    """The path-style request target, percent-encoded the way the SDKs do."""
    path = "/" + quote(bucket or "", safe="") + ("/" + quote(key, safe="/") if key else "")
    query = "&".join(quote(k, safe="") + (f"={quote(v, safe='')}" if v else "") for k, v in params)
    return path + (f"?{query}" if query else "")


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        """The OSS error ``<Code>`` (from ``x-oss-err`` for a HEAD), or "" when there is none."""
        document = self.body or base64.b64decode(self.headers.get("x-oss-err", ""))
        m = re.search(rb"<Code>([^<]*)</Code>", document)
        return m.group(1).decode() if m else ""


def raw_exchange(
    port: int, request: bytes, *, timeout: float = 10, shut_write: bool = False
) -> RawResponse:
    """Send bytes as they are, read the answer until the server closes; parse status/headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return parse_response(b"".join(chunks))


def parse_response(data: bytes) -> RawResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise AssertionError(f"not an HTTP response: {data[:200]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(lines[0].split(" ", 2)[1]), headers, body)


def wire(head: str) -> bytes:
    """Header text as bytes: latin-1 as HTTP servers read it, else UTF-8 as naive clients send."""
    try:
        return head.encode("latin-1")
    except UnicodeEncodeError:
        return head.encode("utf-8", "surrogateescape")


def send_head(port: int, head: str) -> socket.socket:
    """Send a request head (no body) and keep the connection open for :func:`read_answer`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(wire(head))
    return sock


def read_answer(sock: socket.socket) -> RawResponse:
    """Read until the server closes, then parse what it said."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    return parse_response(b"".join(chunks))


def form_body(
    fields: Iterable[tuple[str, str]],
    file: bytes | None = b"",
    *,
    filename: str | None = "a.txt",
    after: Iterable[tuple[str, str]] = (),
    boundary: str = "9431149156168",
) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it (fields, ``file``, then ``after``) and
    its Content-Type; ``file=None`` leaves the file part out."""

    def part(name: str, value: bytes, extra: str = "") -> bytes:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'
        return head.encode() + value + b"\r\n"

    body = b"".join(part(name, value.encode()) for name, value in fields)
    if file is not None:
        extra = f'; filename="{filename}"' if filename is not None else ""
        body += part("file", file, extra)
    body += b"".join(part(name, value.encode()) for name, value in after)
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def status_line(port: int, request: bytes) -> str:
    """The first line of the server's answer, exactly as sent (``HTTP/1.1 403 Forbidden``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n" not in data and (chunk := s.recv(4096)):
            data += chunk
    return data.partition(b"\r\n")[0].decode("latin-1")


class SilentAppServer:
    """An app server that accepts callback connections and never answers (nor reads)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/cb"

    def close(self) -> None:
        self.sock.close()
        for s in self.held:
            s.close()
