"""What the HTTP server refuses before the app sees it reads as an OSS error, on both servers.

Tried on both (``ossemu serve`` and ``--server werkzeug``, whose handler the pytest fixture
uses): a request line past the server's limit, an HTTP/2 preface, a header line without a colon,
two different Content-Lengths, an obsolete folded header, a method not in capitals and space
before a header's colon. http.server let the last five through: it dropped a bad line and every
header after it, and took the last of two lengths. Under gunicorn alone (http.server leaves them
to the app, which answers them itself): ``Content-Length: abc`` and ``Transfer-Encoding: gzip``.
Each used to get the server's own HTML page; each now gets OSS's XML, its request id and
``Server``, and the connection closes (what follows bad bytes cannot be framed). And a
legitimate long request line: a presigned V4 download of a long Chinese name with an STS token,
past gunicorn's default 4,094 bytes, is served.
"""

from __future__ import annotations

import re
import socket
import urllib.parse
import xml.etree.ElementTree as ET

import oss2
import pytest
import requests

from ossemu.client import assume_role, prefix_policy

from .test_serve_process import start, stop

HOST = b"Host: 127.0.0.1\r\n"
BOTH = {
    "request line of 70,000 bytes": (b"GET /bkt/" + b"a" * 70_000 + b" HTTP/1.1\r\n" + HOST, 414),
    "HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n", None),
    "header line without a colon": (b"GET /bkt/k HTTP/1.1\r\n" + HOST + b"Nocolon\r\n", 400),
    "two Content-Lengths": (
        b"PUT /bkt/k HTTP/1.1\r\n" + HOST + b"Content-Length: 1\r\nContent-Length: 2\r\n",
        400,
    ),
    "obsolete folding": (b"GET /bkt/k HTTP/1.1\r\n" + HOST + b"X-A: b\r\n c\r\n", 400),
    "a method not in capitals": (b"get /bkt/k HTTP/1.1\r\n" + HOST, 400),
    "space before a header's colon": (b"GET /bkt/k HTTP/1.1\r\n" + HOST + b"X-A : b\r\n", 400),
}
GUNICORN_ONLY = {
    "Content-Length: abc": (b"PUT /bkt/k HTTP/1.1\r\n" + HOST + b"Content-Length: abc\r\n", 400),
    "Transfer-Encoding: gzip": (
        b"PUT /bkt/k HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n",
        400,
    ),
}


def exchange(port: int, head: bytes) -> tuple[bytes, bool]:
    """Everything the server answers until it closes (True) or goes quiet for 5 s (False)."""
    request = head if b"\r\n\r\n" in head else head + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except TimeoutError:
            return data, False
    return data, True


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    """One ``ossemu serve`` per server, shared by the module's refusals."""
    started = {
        server: start(tmp_path_factory.mktemp(server), "--server", server)
        for server in ("gunicorn", "werkzeug")
    }
    yield {server: int(url.rsplit(":", 1)[1]) for server, (_, url) in started.items()}
    for proc, _ in started.values():
        code, err = stop(proc)
        assert code == 0 and "Traceback" not in err


def assert_reads_as_oss(answer: bytes, closed: bool, status: int | None) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    got = int(lines[0].split()[1])
    assert got == status if status else got in (400, 505), lines[0]
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Server"] == "AliyunOSS"
    assert headers["Content-Type"] == "application/xml"
    assert int(headers["Content-Length"]) == len(body)
    request_id = headers["x-oss-request-id"]
    assert re.fullmatch(r"[0-9A-F]{24}", request_id)
    error = ET.fromstring(body)
    assert error.findtext("Code") == "BadRequest"
    assert error.findtext("RequestId") == request_id
    assert error.findtext("Message")
    assert closed, "the connection stays open after bytes that cannot be framed"


CASES = [(server, case) for case in BOTH for server in ("gunicorn", "werkzeug")]
# http.server takes these to the app, which answers them itself (InvalidArgument, a 411)
CASES += [("gunicorn", case) for case in GUNICORN_ONLY]


@pytest.mark.parametrize(("server", "case"), CASES)
def test_a_request_the_server_cannot_parse_gets_an_oss_error(ports, server, case):
    head, status = {**BOTH, **GUNICORN_ONLY}[case]
    assert_reads_as_oss(*exchange(ports[server], head), status)


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_oss2_reads_the_refusal_as_a_server_error(ports, server):
    """What an SDK makes of it: OSS's code and status, not an unparsable page. A key of 8,000
    Chinese characters is 72,000 bytes once percent-encoded, past both servers' line limits."""
    auth = oss2.Auth("ossemu-dev-key", "ossemu-dev-secret")
    bucket = oss2.Bucket(auth, f"http://127.0.0.1:{ports[server]}", "photos")
    with pytest.raises(oss2.exceptions.ServerError) as info:
        bucket.get_object("照" * 8000)
    assert (info.value.status, info.value.code) == (414, "BadRequest")
    assert re.fullmatch(r"[0-9A-F]{24}", info.value.request_id)


def test_long_presigned_sts_download_of_a_chinese_name_is_served(tmp_path):
    proc, url = start(tmp_path / "data")
    try:
        owner = oss2.Auth("ossemu-dev-key", "ossemu-dev-secret")
        oss2.Bucket(owner, url, "photos").create_bucket()
        key = "相册/" + "照" * 300 + ".jpg"
        oss2.Bucket(owner, url, "photos").put_object(key, b"jpeg")
        creds = assume_role(
            url,
            "ossemu-dev-key",
            "ossemu-dev-secret",
            "acs:ram::1000000000000001:role/app",
            "browser-session",
            policy=prefix_policy("photos", "相册/", ["oss:GetObject"]),
        )
        provider = oss2.credentials.StaticCredentialsProvider(
            creds.access_key_id, creds.access_key_secret, creds.security_token
        )
        bucket = oss2.Bucket(oss2.ProviderAuthV4(provider), url, "photos", region="cn-hangzhou")
        name = "attachment; filename*=UTF-8''" + urllib.parse.quote(key.split("/")[1])
        signed = bucket.sign_url("GET", key, 600, params={"response-content-disposition": name})
        assert len(signed) > 4094  # gunicorn's default limit for the request line
        answer = requests.get(signed, timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        assert answer.content == b"jpeg"
        assert answer.headers["Content-Disposition"] == name
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err
