"""Delivering callbacks to a real app server on 127.0.0.1, and OSS's verdict on each answer."""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import unquote_to_bytes

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from ossemu.emulator.callbacks import (
    CallbackContext,
    CallbackEngine,
    CallbackJournal,
    CallbackSpec,
    parse_callback,
)
from ossemu.emulator.receiver import CallbackReceiver, ReceivedCallback

KEY_URL = "http://127.0.0.1:8090/_ossemu/callback-public-key.pem"
CONNECT_FAILED = "Error status : -1.OSS can not connect to your callbackUrl, please check it."
CTX = CallbackContext(
    bucket="photos",
    key="dir/cat 1.txt",
    etag="D8E8FCA2DC0F896FD7CB4CB0031BA249",
    size=5,
    mime_type="text/plain",
    crc64=0,
    content_md5="2Oj8otwPiW/Xy0ywAxuiSQ==",
    client_ip="127.0.0.1",
    request_id="566B6BEB1BA604C27DD43805",
    operation="PutObject",
)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def journal(tmp_path) -> CallbackJournal:
    return CallbackJournal(tmp_path / "callbacks.sqlite")


@pytest.fixture
def engine(private_key, journal) -> CallbackEngine:
    return CallbackEngine(private_key, journal, timeout=2.0)


@pytest.fixture
def app() -> Iterator[CallbackReceiver]:
    with CallbackReceiver(verify=False) as receiver:
        yield receiver
    receiver.check()


def callback(*urls: str, **config: object) -> CallbackSpec:
    config = {
        "callbackUrl": ";".join(urls),
        "callbackBody": "bucket=${bucket}&object=${object}",
        **config,
    }
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    spec = parse_callback({"x-oss-callback": encoded}, {})
    assert spec is not None
    return spec


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def assert_signed_by(key: rsa.RSAPrivateKey, received: ReceivedCallback) -> None:
    path, _, query = received.target.partition("?")
    data = unquote_to_bytes(path) + (b"?" + query.encode() if query else b"") + b"\n"
    signature = base64.b64decode(received.headers["authorization"])
    key.public_key().verify(signature, data + received.body, padding.PKCS1v15(), hashes.MD5())


class RawServer:
    """A socket server that reads one request per connection and runs ``script`` on it."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(body) < length and (chunk := conn.recv(65536)):
                    body += chunk
                self.requests.append(head + b"\r\n\r\n" + body)
                with contextlib.suppress(OSError):  # the engine hung up: expected
                    self.script(conn)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(script: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_put_object_callback_is_signed_delivered_and_the_app_body_relayed(engine, app, private_key):
    app.respond_with(body=b'{"a":"b"}')
    outcome = engine.deliver(
        callback(f"{app.url}/index.php?id=1&index=2"), CTX, public_key_url=KEY_URL
    )
    assert (outcome.ok, outcome.status, outcome.body, outcome.message) == (
        True,
        200,
        b'{"a":"b"}',
        "",
    )
    (received,) = app.wait_for(1)
    assert (received.method, received.target) == ("POST", "/index.php?id=1&index=2")
    assert received.body == b"bucket=photos&object=dir%2Fcat%201.txt"
    assert received.headers["host"] == app.url.removeprefix("http://")
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert received.headers["content-length"] == str(len(received.body))
    assert received.headers["user-agent"] == "ehttp-client/0.0.1"
    assert received.headers["connection"] == "close"
    assert base64.b64decode(received.headers["x-oss-pub-key-url"]).decode() == KEY_URL
    assert_signed_by(private_key, received)


def test_request_is_http_1_0_with_exactly_the_oss_headers(engine, raw_server):
    server = raw_server(
        lambda conn: conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    )
    spec = callback(
        f"{server.url}/cb%20x?q=%2F",
        callbackBodyType="application/json",
        callbackBody='{"b":${bucket}}',
    )
    assert engine.deliver(spec, CTX, public_key_url=KEY_URL).ok
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /cb%20x?q=%2F HTTP/1.0"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "Host",
        "Connection",
        "Content-Length",
        "Content-Type",
        "User-Agent",
        "authorization",
        "x-oss-pub-key-url",
    ]
    assert "Content-Type: application/json" in lines
    assert body == b'{"b":"photos"}'


def test_callback_host_is_sent_as_host_while_connecting_to_the_url(engine, app, private_key):
    outcome = engine.deliver(
        callback(f"{app.url}/cb", callbackHost="app.example.com"), CTX, public_key_url=KEY_URL
    )
    assert outcome.ok
    (received,) = app.wait_for(1)
    assert received.headers["host"] == "app.example.com"
    assert_signed_by(private_key, received)


def test_next_url_is_tried_when_the_first_cannot_be_reached(engine, app):
    spec = callback(f"http://127.0.0.1:{closed_port()}/first", f"{app.url}/second")
    outcome = engine.deliver(spec, CTX, public_key_url=KEY_URL)
    assert outcome.ok and outcome.body == b'{"Status":"OK"}'
    assert [a["message"] for a in outcome.attempts] == [CONNECT_FAILED, ""]
    assert [c.path for c in app.log] == ["/second"]


def test_urls_after_a_success_are_not_called(engine, app):
    assert engine.deliver(callback(f"{app.url}/a", f"{app.url}/b"), CTX, public_key_url=KEY_URL).ok
    assert [c.path for c in app.log] == ["/a"]


@pytest.mark.parametrize("app_first", [True, False])
def test_when_every_url_fails_the_last_failure_is_reported(engine, app, app_first):
    app.respond_with(status=502)
    urls = [f"{app.url}/cb", f"http://127.0.0.1:{closed_port()}/cb"]
    outcome = engine.deliver(
        callback(*(urls if app_first else urls[::-1])), CTX, public_key_url=KEY_URL
    )
    assert not outcome.ok
    assert len(outcome.attempts) == 2
    assert outcome.message == (CONNECT_FAILED if app_first else "Error status : 502.")
    assert outcome.status == (None if app_first else 502)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": 500}, "Error status : 500."),
        ({"status": 400, "body": b'{"Status":"Error"}'}, "Error status : 400."),
        ({"status": 204, "body": b""}, "Error status : 204."),
        ({"status": 201}, "Error status : 201."),
        ({"body": b"OK", "content_type": "text/plain"}, "Response body is not valid json format."),
        ({"body": b'\xef\xbb\xbf{"Status":"OK"}'}, "Response body is not valid json format."),
        ({"body": b"NaN"}, "Response body is not valid json format."),
        ({"body": b"\xff\xfe"}, "Response body is not valid json format."),
        ({"content_length": False}, "Error Status : 400.User server missing content-length."),
        (
            {"content_length": "abc"},
            "Error Status : 400.User server return invalid conent-length value.",
        ),
        (
            {"content_length": "-15"},
            "Error Status : 400.User server return invalid conent-length value.",
        ),
        (
            {"body": b"", "content_length": "0"},
            "Error Status : 400.User server return invalid conent-length value.",
        ),
        (
            {"headers": {"Content-Length": "16"}},
            "Error Status : 400.User server return invalid conent-length value.",
        ),
        (
            {"content_length": str(3 * 1024 * 1024 + 1)},
            "Error Status : 400.User server return too long content-length value.",
        ),
    ],
)
def test_unacceptable_answers_give_oss_exact_callback_failed_message(engine, app, answer, message):
    app.respond_with(**answer)
    outcome = engine.deliver(callback(f"{app.url}/cb"), CTX, public_key_url=KEY_URL)
    assert (outcome.ok, outcome.message) == (False, message)
    assert outcome.status == answer.get("status", 200)
    assert len(app.log) == 1


def test_a_json_body_of_three_megabytes_is_accepted(engine, app):
    body = b'"' + b"x" * (3 * 1024 * 1024 - 2) + b'"'
    app.respond_with(body=body)
    outcome = engine.deliver(callback(f"{app.url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.ok and outcome.body == body


def test_redirects_are_not_followed(engine, app):
    app.respond_with(status=301, headers={"Location": f"{app.url}/elsewhere"})
    outcome = engine.deliver(callback(f"{app.url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.message == "Error status : 301."
    assert [c.path for c in app.log] == ["/cb"]


def test_unreachable_app_server(engine):
    outcome = engine.deliver(
        callback(f"http://127.0.0.1:{closed_port()}/cb"), CTX, public_key_url=KEY_URL
    )
    assert (outcome.ok, outcome.status, outcome.message) == (False, None, CONNECT_FAILED)
    assert "ConnectionRefusedError" in outcome.attempts[0]["error"]


def test_slow_app_server_times_out_with_the_configured_limit(private_key, journal, app):
    engine = CallbackEngine(private_key, journal, timeout=0.3)
    app.respond_with(delay=3.0)
    outcome = engine.deliver(callback(f"{app.url}/cb"), CTX, public_key_url=KEY_URL)
    address = app.url.removeprefix("http://")
    assert outcome.message == (
        f"Error status : -1 {address} reply timeout, cost:300ms, timeout:300ms (err -4, errno115)"
    )
    assert outcome.status is None


def test_an_answer_trickling_in_past_the_limit_times_out(private_key, journal, raw_server):
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\n")
        for _ in range(40):
            conn.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.05)

    server = raw_server(trickle)
    engine = CallbackEngine(private_key, journal, timeout=0.3)
    outcome = engine.deliver(callback(f"{server.url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.message.startswith("Error status : -1 127.0.0.1:")
    assert outcome.message.endswith("reply timeout, cost:300ms, timeout:300ms (err -4, errno115)")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"", "Error status : -1."),
        (b"SMTP ready\r\n\r\n", "Error status : -1."),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 50\r\n\r\n{}",
            "Error Status : 400.User server return invalid conent-length value.",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "Error Status : 400.User server missing content-length.",
        ),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            "Error Status : 400.User server return invalid conent-length value.",
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", ""),
    ],
    ids=["closed", "not-http", "short-body", "chunked", "two-lengths", "same-length-twice"],
)
def test_malformed_answers(engine, raw_server, reply, message):
    server = raw_server(lambda conn: conn.sendall(reply))
    outcome = engine.deliver(callback(f"{server.url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.message == message
    assert outcome.ok is (message == "")


def test_strict_urls_refuses_names_that_resolve_to_loopback(private_key, journal, app):
    engine = CallbackEngine(private_key, journal, strict_urls=True)
    url = app.url.replace("127.0.0.1", "localhost")
    outcome = engine.deliver(callback(f"{url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.message == CONNECT_FAILED
    assert "strict_urls" in outcome.attempts[0]["error"]
    assert app.log == []


def test_every_delivery_is_journaled_with_what_was_sent_and_received(
    engine, app, journal, private_key
):
    app.respond_with(body=b'{"ok":1}', headers={"X-App": "yes"})
    engine.deliver(callback(f"{app.url}/cb?x=1"), CTX, public_key_url=KEY_URL)
    app.respond_with(body=b"\xff")
    engine.deliver(callback(f"{app.url}/cb"), CTX, public_key_url=KEY_URL)
    first, second = journal.entries("photos", "dir/cat 1.txt")
    assert (first["operation"], first["request_id"], first["outcome"]) == (
        "PutObject",
        "566B6BEB1BA604C27DD43805",
        "ok",
    )
    datetime.datetime.fromisoformat(first["time"].replace("Z", "+00:00"))
    (attempt,) = first["attempts"]
    assert attempt["url"] == f"{app.url}/cb?x=1"
    assert attempt["request"]["target"] == "/cb?x=1"
    assert attempt["request"]["body"] == "bucket=photos&object=dir%2Fcat%201.txt"
    sent = dict(attempt["request"]["headers"])
    assert sent["authorization"] == app.log[0].headers["authorization"]
    assert attempt["response"]["status"] == 200
    assert ["X-App", "yes"] in attempt["response"]["headers"]
    assert attempt["response"]["body"] == '{"ok":1}'
    assert isinstance(first["duration_ms"], int) and isinstance(attempt["duration_ms"], int)
    assert (second["outcome"], second["message"]) == (
        "failed",
        "Response body is not valid json format.",
    )
    assert second["attempts"][0]["response"]["body_base64"] == "/w=="
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    text = json.dumps(journal.entries())
    assert "PRIVATE" not in text and private_pem.decode().splitlines()[1] not in text


def test_a_broken_journal_does_not_change_the_outcome(private_key, tmp_path, app, caplog):
    journal = CallbackJournal(tmp_path / "j.sqlite")
    engine = CallbackEngine(private_key, journal)
    journal.close()  # the next entry reopens the file...
    journal.path.unlink()
    journal.path.mkdir()  # ...which sqlite cannot do for a directory
    assert engine.deliver(callback(f"{app.url}/cb"), CTX, public_key_url=KEY_URL).ok
    assert "could not journal the callback" in caplog.text


def _tls_context(tmp_path) -> ssl.SSLContext:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_an_https_answer_trickling_in_past_the_limit_times_out(private_key, journal, tmp_path):
    """The limit is for the whole exchange over TLS too, however steadily the bytes come."""
    context = _tls_context(tmp_path)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def trickle() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(b"HTTP/1.0 200 OK\r\n")
            for _ in range(40):
                tls.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    engine = CallbackEngine(private_key, journal, timeout=0.3)
    started = time.monotonic()
    outcome = engine.deliver(callback(f"https://127.0.0.1:{port}/cb"), CTX, public_key_url=KEY_URL)
    took = time.monotonic() - started
    listener.close()
    assert outcome.message.endswith("reply timeout, cost:300ms, timeout:300ms (err -4, errno115)")
    assert took < 1.5  # the trickle goes on for 2 s


def test_a_callback_starts_no_thread(engine, raw_server, monkeypatch):
    """The time limit is kept by the socket's own timeouts: a thread per callback cost 0.25 ms."""
    server = raw_server(
        lambda conn: conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    )

    def refuse(self: threading.Thread) -> None:
        raise AssertionError(f"a thread was started: {self!r}")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    outcome = engine.deliver(callback(f"{server.url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.ok, outcome.message


@pytest.mark.parametrize("sni", [True, False])
def test_https_callback_sends_sni_only_when_asked(engine, tmp_path, sni):
    context = _tls_context(tmp_path)
    seen: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            data = b""
            while not data.endswith(b"}") and (chunk := tls.recv(65536)):
                data += chunk
            tls.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    spec = callback(
        f"https://127.0.0.1:{port}/cb",
        callbackHost="app.example.com",
        callbackSNI=sni,
        callbackBodyType="application/json",
        callbackBody='{"b":${bucket}}',
    )
    outcome = engine.deliver(spec, CTX, public_key_url=KEY_URL)
    thread.join(timeout=5)
    listener.close()
    assert outcome.ok, outcome.message
    assert seen == (["app.example.com"] if sni else [None])


def test_https_to_a_plain_http_server_cannot_connect(engine, app):
    url = app.url.replace("http://", "https://")
    outcome = engine.deliver(callback(f"{url}/cb"), CTX, public_key_url=KEY_URL)
    assert outcome.message == CONNECT_FAILED
    assert "TLS handshake failed" in outcome.attempts[0]["error"]


def test_a_tls_handshake_that_never_completes_times_out(private_key, journal):
    engine = CallbackEngine(private_key, journal, timeout=0.2)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        port = silent.getsockname()[1]
        outcome = engine.deliver(
            callback(f"https://127.0.0.1:{port}/cb"), CTX, public_key_url=KEY_URL
        )
    assert outcome.message == (
        f"Error status : -1 127.0.0.1:{port} reply timeout, cost:200ms, timeout:200ms "
        "(err -4, errno115)"
    )
