"""What an app server calls to trust a callback: the documented vector, tampering, key URLs."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ossemu.client.callback_verify import (
    DEFAULT_TRUSTED_PREFIXES,
    callback_string_to_sign,
    is_trusted_key_url,
    public_key_url,
    verify_callback_request,
)

# docs/oss-protocol.md 4.2: OSS's published key, request and signature.
DOC_PEM = b"""-----BEGIN PUBLIC KEY-----
MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKs/JBGzwUB2aVht4crBx3oIPBLNsjGs
C0fTXv+nvlmklvkcolvpvXLTjaxUHR3W9LXxQ2EHXAJfCB+6H2YF1k8CAwEAAQ==
-----END PUBLIC KEY-----
"""
DOC_HEADERS = {
    "authorization": "kKQeGTRccDKyHB3H9vF+xYMSrmhMZjzzl2/kdD1ktNVgbWEfYTQG0G2SU/RaHBovRCE8OkQDj"
    "C3uG33esH2txA==",
    "x-oss-pub-key-url": "aHR0cDovL2dvc3NwdWJsaWMuYWxpY2RuLmNvbS9jYWxsYmFja19wdWJfa2V5X3YxLnBlbQ==",
}
DOC_TARGET = "/index.php?id=1&index=2"
DOC_BODY = b"bucket=yonghu-test"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class KeyServer:
    """Serves one PEM at a unique URL and counts how often it is fetched."""

    def __init__(self, pem: bytes) -> None:
        self.hits = 0
        path = f"/{uuid.uuid4().hex}.pem"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                status, body = (200, pem) if self.path == path else (404, b"")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture
def key_server(key) -> Iterator[KeyServer]:
    server = KeyServer(pem_of(key))
    yield server
    server.server.shutdown()
    server.server.server_close()


def signed(key, target: str, body: bytes, key_url: str) -> dict[str, str]:
    signature = key.sign(callback_string_to_sign(target, body), padding.PKCS1v15(), hashes.MD5())
    return {
        "Authorization": base64.b64encode(signature).decode(),
        "X-OSS-Pub-Key-Url": base64.b64encode(key_url.encode()).decode(),
    }


def test_documented_vector_verifies():
    assert callback_string_to_sign(DOC_TARGET, DOC_BODY) == (
        b"/index.php?id=1&index=2\nbucket=yonghu-test"
    )
    assert verify_callback_request(DOC_TARGET, DOC_HEADERS, DOC_BODY, public_key_pem=DOC_PEM)
    assert public_key_url(DOC_HEADERS) == "http://gosspublic.alicdn.com/callback_pub_key_v1.pem"


@pytest.mark.parametrize(
    ("target", "body"),
    [
        (DOC_TARGET, b"bucket=yonghu-tesT"),
        (DOC_TARGET, DOC_BODY + b"\n"),
        ("/index.php?id=1&index=3", DOC_BODY),
        ("/index.php", DOC_BODY),
        ("/index.php?", DOC_BODY),
        ("/Index.php?id=1&index=2", DOC_BODY),
    ],
)
def test_tampered_body_path_or_query_fails(target, body):
    assert not verify_callback_request(target, DOC_HEADERS, body, public_key_pem=DOC_PEM)


def test_path_is_percent_decoded_and_query_kept_raw():
    assert callback_string_to_sign("/a%20b/%E6%9D%AD?q=%2F+x", b"{}") == (
        "/a b/杭?q=%2F+x\n{}".encode()
    )
    assert callback_string_to_sign("http://app.example.com:8080/a%2Fb?x=1", b"") == b"/a/b?x=1\n"
    assert callback_string_to_sign("/cb", b"body") == b"/cb\nbody"


def test_headers_are_case_insensitive_and_the_key_is_fetched_from_a_trusted_url(key, key_server):
    headers = signed(key, "/cb%20x?id=1", b"a=1", key_server.url)
    assert verify_callback_request("/cb%20x?id=1", headers, b"a=1")
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify_callback_request("/cb%20x?id=1", lower, b"a=1")
    assert not verify_callback_request("/cb%20x?id=1", headers, b"a=2")
    assert key_server.hits == 1


def test_untrusted_key_urls_are_never_fetched(key, key_server):
    headers = signed(key, "/cb", b"a=1", key_server.url)
    prefixes = ("https://gosspublic.alicdn.com/",)
    assert not verify_callback_request("/cb", headers, b"a=1", trusted_key_url_prefixes=prefixes)
    assert key_server.hits == 0


def test_a_key_url_that_fails_gives_false(key, key_server):
    missing = key_server.url.replace(".pem", "-missing.pem")
    assert not verify_callback_request("/cb", signed(key, "/cb", b"", missing), b"")


def test_a_non_rsa_key_gives_false(key):
    ec_pem = pem_of(ec.generate_private_key(ec.SECP256R1()))
    headers = signed(key, "/cb", b"", "http://127.0.0.1:1/k.pem")
    assert not verify_callback_request("/cb", headers, b"", public_key_pem=ec_pem)
    assert not verify_callback_request("/cb", headers, b"", public_key_pem=b"not a pem")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": ""},
        {"authorization": "%%%"},
        {"authorization": DOC_HEADERS["authorization"]},
        {"authorization": DOC_HEADERS["authorization"], "x-oss-pub-key-url": "???"},
    ],
)
def test_missing_or_garbled_headers_give_false(headers):
    assert not verify_callback_request(DOC_TARGET, headers, DOC_BODY)


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("http://127.0.0.1:8090/_ossemu/callback-public-key.pem", True),
        ("http://127.0.0.1/key.pem", True),
        ("http://localhost:8090/key.pem", True),
        ("http://[::1]:8090/key.pem", True),
        ("https://gosspublic.alicdn.com/callback_pub_key_v1.pem", True),
        ("http://gosspublic.alicdn.com/callback_pub_key_v1.pem", False),
        ("https://gosspublic.alicdn.com.evil.example/key.pem", False),
        ("http://localhost.evil.example/key.pem", False),
        ("http://127.0.0.1.nip.io/key.pem", False),
        ("http://127.0.0.10/key.pem", False),
        ("http://localhost:80@evil.example/key.pem", False),
        ("http://localhost\\@evil.example/key.pem", False),
        ("http://127.0.0.1/key.pem\r\nX: y", False),
        ("ftp://127.0.0.1/key.pem", False),
        ("http://[::1/key.pem", False),
    ],
)
def test_trusted_key_url_prefixes_match_at_a_boundary(url, trusted):
    assert is_trusted_key_url(url, DEFAULT_TRUSTED_PREFIXES) is trusted
