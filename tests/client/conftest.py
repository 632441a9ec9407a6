"""A scripted stdlib HTTP server on 127.0.0.1:0 for transport-level client tests.

Each test gives a ``respond(request) -> Reply`` function; the server records every request it
got (headers, body size and CRC-64, and the body itself unless ``keep_bodies=False``), so
tests can count attempts and check what was sent without storing large payloads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ossemu.client import Client, RetryPolicy
from ossemu.client.crc import crc64


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    size: int = 0
    crc64: int = 0
    body: bytes = b""


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False  # close the connection without answering


Responder = Callable[[Seen], Reply]


class ScriptedServer:
    Reply = Reply  # tests build replies through the fixture, so nothing imports conftest

    def __init__(self, keep_bodies: bool = True) -> None:
        self.requests: list[Seen] = []
        self.respond: Responder = lambda seen: Reply()
        self.keep_bodies = keep_bodies
        self.errors: list[BaseException] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                try:
                    seen = Seen(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                    )
                    for chunk in self._body_chunks():
                        seen.size += len(chunk)
                        seen.crc64 = crc64(chunk, seen.crc64)
                        if server.keep_bodies:
                            seen.body += chunk
                    server.requests.append(seen)
                    reply = server.respond(seen)
                except BaseException as exc:  # surfaced by the fixture
                    server.errors.append(exc)
                    reply = Reply(500, body=b"test server error")
                if reply.drop:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                if "Date" in reply.headers:
                    self.send_response_only(reply.status)
                else:
                    self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("x-oss-request-id", f"REQ{len(server.requests):021d}")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            def _body_chunks(self) -> Iterator[bytes]:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return
                        remaining = size
                        while remaining:
                            data = self.rfile.read(min(remaining, 65536))
                            remaining -= len(data)
                            yield data
                        self.rfile.readline()
                remaining = int(self.headers.get("Content-Length") or 0)
                while remaining > 0:
                    data = self.rfile.read(min(remaining, 65536))
                    if not data:
                        return
                    remaining -= len(data)
                    yield data

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def client(self, **kwargs: object) -> Client:
        options: dict[str, object] = {
            "max_retries": RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.002),
            "read_timeout": 5,
        }
        options.update(kwargs)
        return Client(self.url, "ak", "sk", **options)  # type: ignore[arg-type]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()
    if server.errors:
        raise server.errors[0]


@pytest.fixture
def streaming_server() -> Iterator[ScriptedServer]:
    """Like ``scripted_server`` but keeps only sizes and CRCs, never whole bodies."""
    server = ScriptedServer(keep_bodies=False)
    yield server
    server.close()
    if server.errors:
        raise server.errors[0]
