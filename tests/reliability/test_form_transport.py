"""Form uploads over both servers (in-process Werkzeug and ``ossemu serve``): a chunked body,
and a body that stops half-way. Never a 500, nothing stored unless whole."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from tests.reliability.helpers import BUCKET, KEY_ID, SECRET
from tests.support import form_body, raw_exchange


def signed_form(key: str, file: bytes) -> tuple[bytes, str]:
    document = {"expiration": "2099-01-01T00:00:00.000Z", "conditions": [{"bucket": BUCKET}]}
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), policy.encode(), hashlib.sha1).digest())
    fields = [
        ("key", key),
        ("OSSAccessKeyId", KEY_ID),
        ("policy", policy),
        ("Signature", signature.decode()),
    ]
    return form_body(fields, file)


def head(server, content_type: str, framing: str) -> bytes:
    return (
        f"POST /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: {content_type}\r\n{framing}Connection: close\r\n\r\n"
    ).encode()


def chunked(body: bytes, size: int = 1000) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def test_a_chunked_form_upload_is_stored_whole(server):
    file = bytes(range(256)) * 400
    body, content_type = signed_form("form-chunked", file)

    response = raw_exchange(
        server.port, head(server, content_type, "Transfer-Encoding: chunked\r\n") + chunked(body)
    )

    assert response.status == 204, response.body[:300]
    got = server.request("GET", BUCKET, "form-chunked")
    assert (got.status, got.body) == (200, file)


def test_a_form_body_that_stops_half_way_stores_nothing(server):
    body, content_type = signed_form("form-cut", b"x" * 100_000)
    framing = f"Content-Length: {len(body)}\r\n"

    response = raw_exchange(
        server.port, head(server, content_type, framing) + body[:60_000], shut_write=True
    )

    assert response.status == 400, response.body[:300]
    assert re.search(rb"<Code>(IncompleteBody|MalformedPOSTRequest)</Code>", response.body)
    assert server.request("GET", BUCKET, "form-cut").status == 404
