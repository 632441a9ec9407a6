"""The answer written for a request the HTTP server refused before the app saw it."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from ossemu.emulator.refusals import refusal


def parse(answer: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, dict(line.split(": ", 1) for line in lines), body


@pytest.mark.parametrize(
    ("status", "line", "code"),
    [
        (400, "HTTP/1.1 400 Bad Request", "BadRequest"),
        (414, "HTTP/1.1 414 Request-URI Too Long", "BadRequest"),
        (431, "HTTP/1.1 431 Request Header Fields Too Large", "BadRequest"),
        (501, "HTTP/1.1 501 Not Implemented", "NotImplemented"),
        (599, "HTTP/1.1 400 Bad Request", "BadRequest"),  # no such status: a plain 400
    ],
)
def test_refusal_keeps_the_servers_status_and_reads_as_an_oss_error(status, line, code):
    got, headers, body = parse(refusal(status, "127.0.0.1"))
    assert got == line
    assert headers["Server"] == "AliyunOSS" and headers["Connection"] == "close"
    assert int(headers["Content-Length"]) == len(body)
    error = ET.fromstring(body)
    assert error.findtext("Code") == code
    assert error.findtext("RequestId") == headers["x-oss-request-id"]
    assert error.findtext("HostId") == "127.0.0.1"
    assert ET.fromstring(base64.b64decode(headers["x-oss-err"])).findtext("Code") == code


def test_each_refusal_has_its_own_request_id():
    assert parse(refusal(400))[1]["x-oss-request-id"] != parse(refusal(400))[1]["x-oss-request-id"]
