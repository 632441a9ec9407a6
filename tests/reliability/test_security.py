"""Security at the system level: every route checks signatures, signed URLs expire, signatures
are compared in constant time, callbacks cannot be steered into extra headers, and secrets stay
out of logs, errors and the journal.

Unit tests already pin the signers (``tests/emulator/test_auth.py``), callback parsing
(``test_callback_spec.py``) and the receiver's refusal of forged, tampered, unsigned and
untrusted-key callbacks (``tests/receiver/``, ``tests/client/test_callback_verify.py``); these
tests run a real emulator and look at what goes over the wire and onto disk.
"""

from __future__ import annotations

import base64
import hmac
import os
import shutil
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import requests
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ossemu.client.auth import Credentials, Signer
from ossemu.emulator.app import create_app
from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.protocol.auth import SignedRequest, verify_request
from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.receiver import CallbackReceiver
from ossemu.emulator.routes import ROUTES
from ossemu.emulator.server import EmulatorServer
from tests.reliability.helpers import ENV, KEY_ID, REGION, SECRET, ServeProcess, raw_request
from tests.support import b64json, form_body, target

BUCKET = "guarded"
WRONG = Signer(Credentials(KEY_ID, "not-the-secret"), "v4", REGION)
#: The control API: the emulator's own, never signature-checked (routes/control.py says why).
CONTROL_API = {
    ("/_ossemu/health", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/callback-public-key.pem", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/callbacks", frozenset({"GET", "DELETE", "HEAD", "OPTIONS"})),
    ("/_ossemu/faults", frozenset({"GET", "POST", "DELETE", "HEAD", "OPTIONS"})),
    ("/_ossemu/reset", frozenset({"POST", "OPTIONS"})),
    ("/_ossemu/clock", frozenset({"GET", "POST", "DELETE", "HEAD", "OPTIONS"})),
    # The inspector: its page and two files, and the data it reads through the control API.
    ("/_ossemu/", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/static/<name>", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/callbacks/<int:entry_id>/replay", frozenset({"POST", "OPTIONS"})),
    ("/_ossemu/callbacks/trigger", frozenset({"POST", "OPTIONS"})),
    ("/_ossemu/buckets", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/buckets/<bucket>/objects", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/buckets/<bucket>/object", frozenset({"GET", "DELETE", "HEAD", "OPTIONS"})),
    ("/_ossemu/buckets/<bucket>/uploads", frozenset({"GET", "HEAD", "OPTIONS"})),
    ("/_ossemu/buckets/<bucket>/uploads/<upload_id>", frozenset({"DELETE", "OPTIONS"})),
}


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[ServeProcess]:
    """``ossemu serve`` with a bucket holding one object, logging at DEBUG."""
    root = tmp_path_factory.mktemp("security")
    process = ServeProcess(root / "data", "--log-level", "DEBUG", log=root / "serve.log")
    assert raw_request(process.port, "PUT", BUCKET, None).status == 200
    assert raw_request(process.port, "PUT", BUCKET, "k", body=b"secret data").status == 200
    yield process
    process.stop()


def route_request(method: str, level: str, sub: str | None) -> tuple[str | None, str | None, list]:
    bucket = None if level == "service" else BUCKET
    key = "k" if level == "object" else None
    params = []
    if sub == "uploadId":
        params = [("uploadId", "0" * 32)]
        if method == "PUT":
            params.insert(0, ("partNumber", "1"))
    elif sub is not None:
        params = [(sub, "")]
    return bucket, key, params


ALL_ROUTES = [
    *(where for where, route in ROUTES.items() if route.auth != "none"),  # not the preflight
    ("POST", "object", None),
    ("GET", "object", "tagging"),
]


@pytest.mark.parametrize(("method", "level", "sub"), ALL_ROUTES, ids=lambda v: str(v))
@pytest.mark.parametrize("addressing", ["path", "virtual-hosted"])
def test_every_route_refuses_unsigned_and_wrongly_signed_requests(
    serve, method, level, sub, addressing
):
    bucket, key, params = route_request(method, level, sub)
    body = b"<Delete><Object><Key>k</Key></Object></Delete>" if method == "POST" else b"x"
    host: dict[str, str] = {}
    raw_target = None
    if addressing == "virtual-hosted" and bucket:
        host = {"Host": f"{bucket}.localhost:{serve.port}"}
        raw_target = "/" + (key or "") + target(None, None, params)[1:]
    if (method, level, sub) == ("POST", "bucket", None):  # PostObject: an unsigned form
        body, content_type = form_body([("key", "k")], b"x")
        host["Content-Type"] = content_type
    sent = {"params": params, "body": body, "sign": False, "raw_target": raw_target}
    unsigned = raw_request(serve.port, method, bucket, key, headers=host, **sent)
    assert (unsigned.status, unsigned.code) == (403, "AccessDenied"), unsigned.body[:300]
    wrong = dict(host)
    WRONG.sign_headers(method, wrong, bucket, key, params)
    forged = raw_request(serve.port, method, bucket, key, headers=wrong, **sent)
    assert (forged.status, forged.code) == (403, "SignatureDoesNotMatch"), forged.body[:300]
    intact = raw_request(serve.port, "GET", BUCKET, "k")
    assert (intact.status, intact.body) == (200, b"secret data")


def test_only_the_documented_control_api_is_served_without_a_signature(tmp_path):
    app = create_app(EmulatorConfig(data_dir=tmp_path / "d", port=0))
    try:
        unsigned = {
            (rule.rule, frozenset(rule.methods or ()))
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "oss"
        }
        oss = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == "oss"}
    finally:
        app.extensions["ossemu"].close()
    assert unsigned == CONTROL_API
    assert len(oss) == 2 and "/" in oss  # "/" and the catch-all, both through dispatch()


def test_a_bucket_named_static_is_an_ordinary_guarded_bucket(serve):
    """Flask's default /static route once shadowed it: writable, never readable, unguarded."""
    assert raw_request(serve.port, "PUT", "static", None).status == 200
    assert raw_request(serve.port, "PUT", "static", "app.js", body=b"js").status == 200
    assert raw_request(serve.port, "GET", "static", "app.js").body == b"js"
    unsigned = raw_request(serve.port, "GET", "static", "app.js", sign=False)
    assert (unsigned.status, unsigned.code) == (403, "AccessDenied")


def test_presigned_urls_work_until_they_expire_then_replays_fail(serve):
    signers = [Signer(Credentials(KEY_ID, SECRET), v, REGION) for v in ("v1", "v4")]
    now = datetime.now(timezone.utc)
    urls = []
    for signer in signers:
        for method in ("GET", "PUT"):
            query = signer.presign(method, BUCKET, "k2", [], {}, expires=2, now=now)
            urls.append((method, f"{serve.url}{target(BUCKET, 'k2', query)}"))
    assert requests.put(urls[1][1], data=b"v1").status_code == 200
    for _ in range(3):  # replays inside the lifetime are fine, as on OSS
        for method, url in urls:
            assert requests.request(method, url, data=b"again").status_code == 200
    time.sleep(max(0.0, now.timestamp() + 3.2 - time.time()))
    for method, url in urls:
        late = requests.request(method, url, data=b"too late")
        assert late.status_code == 403
        assert b"<Code>AccessDenied</Code>" in late.content and b"expired" in late.content
    assert raw_request(serve.port, "GET", BUCKET, "k2").body == b"again"


@pytest.mark.parametrize("form", ["v1 header", "v1 url", "v4 header", "v4 url"])
def test_signatures_are_compared_in_constant_time(monkeypatch, form):
    version, where = form.split()
    signer = Signer(Credentials(KEY_ID, "wrong-secret"), version, REGION)
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    if where == "header":
        signer.sign_headers("GET", headers, BUCKET, "k", [])
    else:
        query = signer.presign("GET", BUCKET, "k", [], {}, expires=60)
    compared = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    request = SignedRequest("GET", BUCKET, "k", query, {k.lower(): v for k, v in headers.items()})
    with pytest.raises(OssError) as caught:
        verify_request(request, {KEY_ID: SECRET})
    assert caught.value.code == "SignatureDoesNotMatch"
    provided = caught.value.details["SignatureProvided"].encode()
    assert any(provided in (a, b) for a, b in compared), "the signature was compared with =="


# -- callbacks carry exactly OSS's headers, whatever the uploader sends ---------------------------


class _Capture(socketserver.ThreadingTCPServer):
    """An app server that keeps the raw bytes of each callback request and answers ``{}``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CaptureHandler)
        self.requests: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _CaptureHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = self.rfile.readline(65537)
            if not line:
                break
            head += line
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        self.server.requests.append(head + self.rfile.read(length))  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n")
        self.wfile.write(b"Content-Length: 2\r\n\r\n{}")


@pytest.fixture(scope="module")
def capture() -> Iterator[_Capture]:
    server = _Capture()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[EmulatorServer]:
    config = EmulatorConfig(
        data_dir=tmp_path_factory.mktemp("inject") / "data",
        host="127.0.0.1",
        port=0,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        callback_timeout=2,
    )
    with EmulatorServer(config) as server:
        assert raw_request(server.port, "PUT", BUCKET, None).status == 200
        yield server


OSS_CALLBACK_HEADERS = [
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "host",
    "user-agent",
    "x-oss-pub-key-url",
]
_hostile = st.lists(
    st.sampled_from([*"aZ09-_.:/?&=%;@[] ", "\r", "\n", "\r\n", "\x00", "\t", "\u00e9", "\u2028"]),
    max_size=16,
).map("".join) | st.sampled_from(
    ["x\r\nX-Injected: 1", "x\nX-Injected: 1", "x%0d%0aX-Injected:%201", "x\r\n\r\nGET / HTTP/1.1"]
)


# Values that pass validation must not inject either: most examples are plausible ones. (No ';'
# in paths: it separates callback URLs, and a second URL could name a host to resolve.)
_plausible = st.text(st.sampled_from("aZ09-_.~!$&'()*+,=:@%/?"), max_size=16)
_value = st.one_of(_plausible, _plausible, _hostile)
_host = st.none() | st.sampled_from(["example.com", "a-b.example:8080", "10.0.0.1"]) | _hostile


@settings(max_examples=60, deadline=None)
@given(
    path=_value,
    host=_host,
    var=_value,
    key=_value,
    content_type=st.sampled_from(["text/plain", "\u00e9/\u00e9", "a;b=c d"]),
)
def test_no_uploader_value_can_add_a_header_to_the_callback(
    emulator, capture, path, host, var, key, content_type
):
    config = {
        "callbackUrl": f"{capture.url}/{path}",
        "callbackBody": "k=${object}&v=${x:v}&t=${mimeType}",
    }
    if host is not None:
        config["callbackHost"] = host
    headers = {
        "x-oss-callback": b64json(config),
        "x-oss-callback-var": b64json({"x:v": var}),
        "Content-Type": content_type,
    }
    before = len(capture.requests)
    response = raw_request(emulator.port, "PUT", BUCKET, f"i/{key}", headers=headers, body=b"x")
    if response.status != 200:
        assert (response.status, response.code) in (
            (400, "InvalidArgument"),
            (400, "InvalidObjectName"),
        ), response.body[:300]
        assert len(capture.requests) == before
        event(f"refused: {response.code}")
        return
    event("delivered")
    (sent,) = capture.requests[before:]
    head, _, body = sent.partition(b"\r\n\r\n")
    request_line, *lines = head.split(b"\r\n")
    method, request_target, version = request_line.split(b" ")
    assert (method, version) == (b"POST", b"HTTP/1.0")
    assert all(0x21 <= c < 0x7F for c in request_target), request_target
    names = sorted(line.split(b":", 1)[0].decode().lower() for line in lines)
    assert names == OSS_CALLBACK_HEADERS, head
    assert all(0x20 <= c < 0x7F or c == 0x09 for line in lines for c in line), head
    fields = dict(line.split(b": ", 1) for line in lines)
    assert len(body) == int(fields[b"Content-Length"])


# -- secrets stay secret --------------------------------------------------------------------------


def test_secrets_never_reach_logs_errors_or_the_journal(tmp_path):
    data = tmp_path / "data"
    server = ServeProcess(data, "--log-level", "DEBUG", log=tmp_path / "serve.log")
    seen: list[bytes] = []
    try:
        with CallbackReceiver() as ok, CallbackReceiver() as failing:
            failing.respond_with(status=500)
            _exercise(server, seen, ok.url, failing.url)
        journal = requests.get(f"{server.url}/_ossemu/callbacks")
        seen.append(journal.content)
        assert len(journal.json()) == 2
        public_key = requests.get(f"{server.url}/_ossemu/callback-public-key.pem").content
        assert b"PUBLIC KEY" in public_key and b"PRIVATE" not in public_key
    finally:
        assert server.stop() == 0
    private_pem = (data / "callback-key.pem").read_text()
    private_lines = [line for line in private_pem.splitlines() if "-----" not in line]
    stores = [p for p in data.glob("*.sqlite3*")]
    haystacks = {
        "log": server.log_text().encode(),
        "responses": b"\n".join(seen),
        **{p.name: p.read_bytes() for p in stores},
    }
    for name, text in haystacks.items():
        assert SECRET.encode() not in text, f"the access key secret is in the {name}"
        assert base64.b64encode(SECRET.encode()) not in text, f"the secret, base64, in the {name}"
        for line in private_lines:
            assert line.encode() not in text, f"the callback private key is in the {name}"
    assert " INFO " in server.log_text(), "the log under test is empty"


def _exercise(server: ServeProcess, seen: list[bytes], ok_url: str, failing_url: str) -> None:
    """Successes, every kind of auth failure, presigned URLs and two callbacks."""

    def keep(response) -> None:  # type: ignore[no-untyped-def]
        seen.append(response.body if hasattr(response, "body") else response.content)
        seen.append(repr(dict(response.headers)).encode())

    port = server.port
    keep(raw_request(port, "PUT", BUCKET, None))
    for url in (ok_url, failing_url):
        callback = {"callbackUrl": url, "callbackBody": "k=${object}"}
        keep(
            raw_request(
                port, "PUT", BUCKET, "cb", headers={"x-oss-callback": b64json(callback)}, body=b"c"
            )
        )
    wrong_headers: dict[str, str] = {}
    WRONG.sign_headers("GET", wrong_headers, BUCKET, "cb", [])
    keep(raw_request(port, "GET", BUCKET, "cb", headers=wrong_headers, sign=False))
    v1_wrong: dict[str, str] = {}
    Signer(Credentials(KEY_ID, "nope"), "v1", REGION).sign_headers(
        "GET", v1_wrong, BUCKET, "cb", []
    )
    keep(raw_request(port, "GET", BUCKET, "cb", headers=v1_wrong, sign=False))
    keep(raw_request(port, "GET", BUCKET, "cb", headers={"Authorization": "OSS a:b"}, sign=False))
    keep(raw_request(port, "GET", "no-such-bucket", "x"))
    for version in ("v1", "v4"):
        good = Signer(Credentials(KEY_ID, SECRET), version, REGION)
        query = good.presign("GET", BUCKET, "cb", [], {}, expires=60)
        keep(requests.get(f"{server.url}{target(BUCKET, 'cb', query)}"))
        tampered = [(k, v + "0" if k in ("Signature", "x-oss-signature") else v) for k, v in query]
        keep(requests.get(f"{server.url}{target(BUCKET, 'cb', tampered)}"))
    keep(requests.get(f"{server.url}/{BUCKET}/cb"))  # anonymous


# -- binding to every interface -------------------------------------------------------------------


def test_serving_on_all_interfaces_warns_that_the_control_api_is_exposed(tmp_path):
    """Run in a private network namespace when ``unshare`` allows it, so nothing is exposed."""
    command = [sys.executable, "-m", "ossemu.emulator", "serve", "--host", "0.0.0.0", "--port", "0"]
    command += ["--data-dir", str(tmp_path / "data")]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        command = [unshare, "-rn", *command]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **ENV},
    )
    try:
        assert proc.stdout is not None and "listening on" in proc.stdout.readline()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert "WARNING" in err and "/_ossemu" in err and "network" in err
    assert SECRET not in err
