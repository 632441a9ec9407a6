"""The OSS API's own WSGI lane and Flask's: each request reaches the one it always reached,
and answers as before (real HTTP against the in-process emulator)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import requests

from tests.support import status_line


def test_an_oss_error_answers_as_xml_with_the_headers_every_answer_carries(oss_emulator):
    resp = requests.get(f"{oss_emulator.url}/no-such-bucket/k", timeout=10)
    assert resp.status_code == 404 and b"<Code>NoSuchBucket</Code>" in resp.content
    assert resp.headers["Server"] == "AliyunOSS" and resp.headers["x-oss-request-id"]
    assert resp.headers["Content-Length"] == str(len(resp.content))
    assert resp.headers["Content-Type"] == "application/xml"


def test_a_head_error_has_no_body_and_says_why_in_a_header(oss_emulator, oss_bucket):
    resp = requests.head(oss_bucket.sign_url("HEAD", "missing", 60), timeout=10)
    assert resp.status_code == 404 and resp.content == b""
    assert resp.headers["Content-Length"] == "0" and resp.headers["x-oss-err"]


def test_a_stored_object_reads_back_with_its_length(oss_emulator, oss_bucket):
    oss_bucket.put_object("k", b"v" * 4096)
    resp = requests.get(oss_bucket.sign_url("GET", "k", 60), timeout=10)
    assert resp.status_code == 200 and resp.content == b"v" * 4096
    assert resp.headers["Content-Length"] == "4096"


def test_a_method_oss_does_not_have_is_method_not_allowed(oss_emulator):
    resp = requests.request("PATCH", f"{oss_emulator.url}/b/k", timeout=10)
    assert resp.status_code == 405 and b"<Code>MethodNotAllowed</Code>" in resp.content
    head = b"PATCH /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert status_line(oss_emulator.port, head) == "HTTP/1.1 405 Method Not Allowed"


def test_the_control_api_is_still_served_by_flask(oss_emulator):
    resp = requests.get(f"{oss_emulator.url}/_ossemu/health", timeout=10)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    assert resp.headers["x-oss-request-id"]  # the access wrapper covers both lanes


def test_an_unexpected_error_on_the_oss_lane_is_internal_error_and_recorded(
    oss_emulator, oss_bucket, monkeypatch
):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(oss_emulator.services.storage, "head_object", broken)
    resp = requests.head(oss_bucket.sign_url("HEAD", "k", 60), timeout=10)
    assert resp.status_code == 500 and resp.content == b""
    errors = oss_emulator.services.take_errors()
    assert [str(e) for e in errors] == ["storage exploded"]


def test_a_204_answer_has_no_length_and_no_body_and_the_connection_goes_on(
    oss_emulator, oss_bucket
):
    """DeleteObject (and PostObject by default) answer 204: werkzeug's own path sends it (a
    fast path of the OSS lane's for it gained nothing measurable, bench/analysis.md stop 30)."""
    oss_bucket.put_object("k", b"v")
    url = urlsplit(oss_emulator.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        delete = urlsplit(oss_bucket.sign_url("DELETE", "k", 60))
        conn.request("DELETE", f"{delete.path}?{delete.query}")
        resp = conn.getresponse()
        assert resp.status == 204 and resp.read() == b""
        assert resp.getheader("Content-Length") is None
        assert resp.getheader("x-oss-request-id") and resp.getheader("Server") == "AliyunOSS"
        get = urlsplit(oss_bucket.sign_url("GET", "k", 60))
        conn.request("GET", f"{get.path}?{get.query}")  # the same connection, next request
        again = conn.getresponse()
        assert again.status == 404 and b"NoSuchKey" in again.read()
    finally:
        conn.close()
