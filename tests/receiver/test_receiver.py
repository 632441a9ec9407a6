"""The callback receiver: a stand-in app server that verifies, records and answers as told."""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ossemu.emulator.callbacks import (
    CallbackContext,
    CallbackEngine,
    CallbackJournal,
    CallbackOutcome,
    parse_callback,
    public_key_pem,
)
from ossemu.emulator.receiver import CallbackReceiver

CTX = CallbackContext(
    bucket="photos",
    key="dir/cat 1.txt",
    etag="D8E8FCA2DC0F896FD7CB4CB0031BA249",
    size=5,
    mime_type="text/plain",
    crc64=0,
    content_md5="",
    client_ip="127.0.0.1",
    request_id="566B6BEB1BA604C27DD43805",
    operation="PutObject",
)
FORM_BODY = "bucket=${bucket}&object=${object}&size=${size}"


class KeyServer:
    """Serves one PEM at a unique URL (so cached keys never leak between tests), counting hits."""

    def __init__(self, pem: bytes) -> None:
        self.hits = 0
        path = f"/keys/{uuid.uuid4().hex}.pem"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                found = self.path == path
                self.send_response(200 if found else 404)
                self.send_header("Content-Length", str(len(pem) if found else 0))
                self.end_headers()
                self.wfile.write(pem if found else b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_server(private_key) -> Iterator[KeyServer]:
    server = KeyServer(public_key_pem(private_key))
    yield server
    server.close()


@pytest.fixture
def engine(private_key, tmp_path) -> CallbackEngine:
    return CallbackEngine(private_key, CallbackJournal(tmp_path / "j.sqlite"), timeout=2.0)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as started:
        yield started


def deliver(
    engine: CallbackEngine, url: str, key_url: str, body: str = FORM_BODY, **config: object
) -> CallbackOutcome:
    encoded = base64.b64encode(
        json.dumps({"callbackUrl": url, "callbackBody": body, **config}).encode()
    ).decode()
    return engine.deliver(
        parse_callback({"x-oss-callback": encoded}, {}), CTX, public_key_url=key_url
    )


def post(
    url: str, target: str, headers: dict[str, str], body: bytes, method: str = "POST"
) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def test_engine_callbacks_are_verified_and_recorded(engine, receiver, key_server):
    outcome = deliver(engine, f"{receiver.url}/cb?id=1", key_server.url)
    assert (outcome.ok, outcome.body) == (True, b'{"Status":"OK"}')
    received = receiver.assert_received(path="/cb", bucket="photos", object="dir/cat 1.txt")
    assert (received.verified, received.rejected, received.json) == (True, None, None)
    assert received.form == {"bucket": "photos", "object": "dir/cat 1.txt", "size": "5"}
    assert (received.method, received.target, received.query) == ("POST", "/cb?id=1", {"id": "1"})
    assert received.headers["user-agent"] == "ehttp-client/0.0.1"


def test_json_callbacks_are_parsed_and_matched(engine, receiver, key_server):
    outcome = deliver(
        engine,
        f"{receiver.url}/json",
        key_server.url,
        body='{"bucket":${bucket},"size":${size}}',
        callbackBodyType="application/json",
    )
    assert outcome.ok
    received = receiver.assert_received(bucket="photos", size=5, verified=True)
    assert (received.json, received.form) == ({"bucket": "photos", "size": 5}, None)


def test_public_key_is_fetched_once_and_cached(engine, receiver, key_server):
    for _ in range(3):
        assert deliver(engine, f"{receiver.url}/cb", key_server.url).ok
    assert key_server.hits == 1
    assert all(callback.verified for callback in receiver.wait_for(3))


def test_callback_signed_with_another_key_is_rejected_with_400(receiver, key_server, tmp_path):
    forger = CallbackEngine(
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        CallbackJournal(tmp_path / "forger.sqlite"),
    )
    outcome = deliver(forger, f"{receiver.url}/cb", key_server.url)
    assert (outcome.ok, outcome.message) == (False, "Error status : 400.")
    (received,) = receiver.log
    assert (received.verified, received.rejected) == (False, "the signature does not match")


@pytest.mark.parametrize(
    ("change", "expected_status"),
    [
        ({}, 200),
        ({"body": b"bucket=photos&object=secret.txt&size=5"}, 400),
        ({"target": "/other?id=1"}, 400),
        ({"target": "/cb?id=2"}, 400),
        ({"target": "/cb"}, 400),
        ({"authorization": base64.b64encode(b"\x00" * 256).decode()}, 400),
        ({"authorization": "not base64!"}, 400),
    ],
    ids=["untouched", "body", "path", "query", "query-dropped", "zero-signature", "garbage"],
)
def test_replayed_callbacks_are_rejected_when_tampered(
    engine, receiver, key_server, change, expected_status
):
    assert deliver(engine, f"{receiver.url}/cb?id=1", key_server.url).ok
    (genuine,) = receiver.log
    headers = {k: v for k, v in genuine.headers.items() if k != "content-length"}
    if "authorization" in change:
        headers["authorization"] = change["authorization"]
    status, _, _ = post(
        receiver.url,
        change.get("target", genuine.target),
        headers,
        change.get("body", genuine.body),
    )
    assert status == expected_status
    replayed = receiver.log[1]
    assert replayed.verified is (expected_status == 200)
    if expected_status == 400:
        assert replayed.rejected == "the signature does not match"


def test_unsigned_callbacks_are_rejected(receiver, key_server):
    key_url = base64.b64encode(key_server.url.encode()).decode()
    status, _, body = post(receiver.url, "/cb", {"x-oss-pub-key-url": key_url}, b"a=1")
    assert status == 400
    assert json.loads(body) == {"Status": "Error", "Message": "unsigned: no authorization header"}
    status, _, _ = post(receiver.url, "/cb", {"authorization": "AAAA"}, b"a=1")
    assert status == 400
    assert [c.rejected for c in receiver.log] == [
        "unsigned: no authorization header",
        "no readable x-oss-pub-key-url header",
    ]


@pytest.mark.parametrize(
    "key_url",
    [
        "http://localhost.evil.example/key.pem",
        "http://127.0.0.1.evil.example/key.pem",
        "http://localhost:80@evil.example/key.pem",
        "https://evil.example/callback_pub_key_v1.pem",
        "file:///etc/passwd",
    ],
)
def test_keys_are_never_fetched_from_untrusted_urls(engine, receiver, key_url):
    outcome = deliver(engine, f"{receiver.url}/cb", key_url)
    assert outcome.message == "Error status : 400."
    assert receiver.log[0].rejected == f"untrusted public key URL {key_url}"


def test_trusted_prefixes_are_configurable(engine, key_server):
    with CallbackReceiver(trusted_key_url_prefixes=["https://gosspublic.alicdn.com/"]) as strict:
        assert not deliver(engine, f"{strict.url}/cb", key_server.url).ok
        assert strict.log[0].rejected == f"untrusted public key URL {key_server.url}"
    assert key_server.hits == 0
    with CallbackReceiver(trusted_key_url_prefixes=[key_server.url.rsplit("/", 1)[0] + "/"]) as r:
        assert deliver(engine, f"{r.url}/cb", key_server.url).ok


def test_unreachable_key_url_means_rejected(engine, receiver, key_server):
    missing = key_server.url.replace("/keys/", "/gone/")
    assert not deliver(engine, f"{receiver.url}/cb", missing).ok
    assert receiver.log[0].rejected.startswith(f"cannot fetch the public key from {missing}")


def test_verify_false_accepts_unsigned_callbacks():
    with CallbackReceiver(verify=False) as receiver:
        status, _, body = post(
            receiver.url, "/cb", {"Content-Type": "application/json"}, b'{"a": 1}'
        )
        assert (status, body) == (200, b'{"Status":"OK"}')
        received = receiver.assert_received(a=1)
        assert (received.verified, received.rejected) == (False, None)


def test_methods_other_than_post_get_501(receiver):
    status, _, _ = post(receiver.url, "/cb", {}, b"", method="GET")
    assert status == 501
    assert receiver.log[0].rejected == "unsupported method GET"


def test_respond_with_applies_until_changed_and_clear_resets(engine, receiver, key_server):
    receiver.respond_with(status=503)
    assert deliver(engine, f"{receiver.url}/cb", key_server.url).message == "Error status : 503."
    assert deliver(engine, f"{receiver.url}/cb", key_server.url).message == "Error status : 503."
    receiver.respond_with(body=b'{"uploaded":true}')
    assert deliver(engine, f"{receiver.url}/cb", key_server.url).body == b'{"uploaded":true}'
    receiver.clear()
    assert receiver.log == []
    assert deliver(engine, f"{receiver.url}/cb", key_server.url).body == b'{"Status":"OK"}'


def test_respond_with_shapes_the_raw_answer():
    with CallbackReceiver(verify=False) as receiver:
        receiver.respond_with(
            status=299, body=b"hello", content_type=None, content_length="7", headers={"X-App": "1"}
        )
        connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
        connection.request("POST", "/cb", body=b"")
        response = connection.getresponse()
        assert (
            response.status,
            response.getheader("Content-Length"),
            response.getheader("Content-Type"),
            response.getheader("X-App"),
        ) == (299, "7", None, "1")
        connection.close()
        receiver.respond_with(content_length=False)
        status, headers, body = post(receiver.url, "/cb", {}, b"")
        assert (status, headers.get("Content-Length"), body) == (200, None, b'{"Status":"OK"}')


def test_echo_answers_the_received_fields(engine, key_server):
    with CallbackReceiver(echo=True) as receiver:
        outcome = deliver(engine, f"{receiver.url}/cb", key_server.url)
    assert json.loads(outcome.body) == {"bucket": "photos", "object": "dir/cat 1.txt", "size": "5"}


def test_wait_for_returns_callbacks_as_they_arrive(engine, receiver, key_server):
    thread = threading.Thread(target=deliver, args=(engine, f"{receiver.url}/late", key_server.url))
    thread.start()
    (received,) = receiver.wait_for(1)
    thread.join()
    assert received.path == "/late"


def test_wait_for_timeout_says_what_arrived(engine, receiver, key_server):
    deliver(engine, f"{receiver.url}/only-one", key_server.url)
    with pytest.raises(
        AssertionError,
        match=r"expected 2 callbacks within 0.1s, got 1\n"
        r"  POST /only-one verified bucket=photos",
    ):
        receiver.wait_for(2, timeout=0.1)


def test_assert_received_failure_lists_near_misses(engine, receiver, key_server):
    deliver(engine, f"{receiver.url}/cb", key_server.url)
    with pytest.raises(AssertionError) as caught:
        receiver.assert_received(bucket="photos", object="other.txt", **{"x:nope": "1"})
    message = str(caught.value)
    assert "no callback matched" in message
    assert "object='dir/cat 1.txt' (want 'other.txt')" in message
    assert "x:nope=<missing> (want '1')" in message
    assert "bucket=" not in message.splitlines()[1]


def test_check_reraises_errors_from_the_server_thread():
    def explode(callback: object) -> None:
        raise RuntimeError("boom")

    with CallbackReceiver(verify=False, on_callback=explode) as receiver:
        status, _, _ = post(receiver.url, "/cb", {}, b"")
        assert status == 500
        with pytest.raises(RuntimeError, match="boom"):
            receiver.check()
        receiver.clear()
        receiver.check()


def test_stop_cuts_delayed_answers_short():
    receiver = CallbackReceiver(verify=False).start()
    receiver.respond_with(delay=60)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            post(receiver.url, "/cb", {}, b"")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    receiver.wait_for(1)
    receiver.stop()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(errors) == 1


def test_url_needs_a_started_receiver():
    with pytest.raises(RuntimeError, match="not started"):
        CallbackReceiver().url  # noqa: B018


def _run_cli(*args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ossemu.emulator", "receiver", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def test_cli_prints_one_line_per_callback_and_stops_on_ctrl_c(engine, key_server):
    process = _run_cli("--echo")
    try:
        first = process.stdout.readline()
        match = re.fullmatch(r"ossemu receiver listening on (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        outcome = deliver(engine, f"{match.group(1)}/cb?user=put_object", key_server.url)
        assert json.loads(outcome.body)["object"] == "dir/cat 1.txt"
        assert process.stdout.readline() == (
            "POST /cb?user=put_object verified bucket=photos&object=dir%2Fcat%201.txt&size=5\n"
        )
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, stdout, stderr) == (0, "", "")


def test_cli_status_option_sets_the_answer(engine, key_server):
    process = _run_cli("--status", "503")
    try:
        url = process.stdout.readline().split()[-1]
        assert deliver(engine, f"{url}/cb", key_server.url).message == "Error status : 503."
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_cli_port_in_use_is_one_clear_line_and_exit_2():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        process = subprocess.run(
            [sys.executable, "-m", "ossemu.emulator", "receiver", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert (process.returncode, process.stdout) == (2, "")
    assert re.fullmatch(
        rf"ossemu receiver: error: cannot listen on 127\.0\.0\.1:{port}: .+\n", process.stderr
    )


@pytest.mark.parametrize(
    "argv", [["--status", "abc"], ["--status", "42"], ["--bogus"], ["--port", "x"]]
)
def test_cli_bad_arguments_are_one_line_and_exit_2(argv):
    process = subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", "receiver", *argv],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (process.returncode, process.stdout) == (2, "")
    assert process.stderr.startswith("ossemu receiver: error: ")
    assert process.stderr.count("\n") == 1


def test_fail_prefix_paths_answer_500_and_others_200():
    with CallbackReceiver(verify=False, fail_prefix="/fail/") as receiver:
        failed = post(receiver.url, "/fail/cb?user=x", {}, b"a=1")
        ok = post(receiver.url, "/cb", {}, b"a=1")
    assert (failed[0], ok[0]) == (500, 200)
    assert json.loads(failed[2])["Status"] == "Error"
    assert [c.target for c in receiver.log] == ["/fail/cb?user=x", "/cb"]


def test_scopes_share_a_server_but_not_their_logs_or_replies():
    with CallbackReceiver(verify=False) as receiver:
        one, two = receiver.scope(), receiver.scope()
        two.respond_with(202, body={"who": "two"})
        assert post(one.url, urlsplit(one.url).path + "/cb?a=1", {}, b"")[0] == 200
        status, _, body = post(two.url, urlsplit(two.url).path, {}, b"")
        assert (status, json.loads(body)) == (202, {"who": "two"})
        [got] = one.wait_for(1)
        assert (got.path, got.target, got.query) == ("/cb", "/cb?a=1", {"a": "1"})
        assert got.wire_target == urlsplit(one.url).path + "/cb?a=1"
        assert [c.path for c in two.log] == ["/"] and receiver.log == []
        one.close()
        status, _, body = post(one.url, urlsplit(one.url).path + "/cb", {}, b"")
        assert status == 404 and len(one.log) == 1 and receiver.log == []


def test_starting_a_receiver_does_not_load_the_sdk():
    code = (
        "import sys\n"
        "from ossemu.emulator.receiver import CallbackReceiver\n"
        "with CallbackReceiver(verify=False) as r:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ossemu.client', 'requests'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert (out.returncode, out.stdout, out.stderr) == (0, "[]\n", "")
