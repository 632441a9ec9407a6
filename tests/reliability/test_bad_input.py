"""Bad input: hand-written corpus plus hypothesis, sent as raw signed HTTP to a live emulator.

Every case gets OSS's error with the right status - never a 500 - nothing lands outside the
data dir, and the server keeps serving other clients. Cases about HTTP framing (headers, lengths,
chunking, slow senders) run against both servers - the in-process Werkzeug one the fixtures use
and ``ossemu serve`` - because the HTTP server meets them first; cases about OSS arguments run
in-process, where an example costs a millisecond.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.config import EmulatorConfig
from emulator.receiver import CallbackReceiver
from emulator.server import EmulatorServer
from tests.reliability.helpers import (
    KEY_ID,
    SECRET,
    RawResponse,
    ServeProcess,
    files_outside,
    parse_response,
    raw_exchange,
    raw_request,
    signed_headers,
    target,
    wire,
)

BUCKET = "bad-input"
OBJECT = b"0123456789"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Target:
    name: str
    port: int
    root: Path  # everything the server may write is under root/data
    data_dir: Path

    def request(self, method: str, bucket: str | None, key: str | None, **kw: Any) -> RawResponse:
        return raw_request(self.port, method, bucket, key, **kw)

    def upload_id(self, key: str) -> str:
        body = self.request("POST", BUCKET, key, params=[("uploads", "")]).body
        match = re.search(rb"<UploadId>(\w+)</UploadId>", body)
        assert match, body
        return match.group(1).decode()


@contextmanager
def _in_process(root: Path) -> Iterator[Target]:
    config = EmulatorConfig(
        data_dir=root / "data",
        host="127.0.0.1",
        port=0,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
    )
    with EmulatorServer(config) as server:
        yield Target("in-process", server.port, root, root / "data")


def _prepare(t: Target) -> Target:
    assert t.request("PUT", BUCKET, None).status == 200
    assert t.request("PUT", BUCKET, "obj", body=OBJECT).status == 200
    return t


def _leaves_nothing_outside(t: Target) -> None:
    stray = files_outside(t.root, t.data_dir)
    assert not stray, f"written outside the data dir: {stray}"
    still = t.request("GET", BUCKET, "obj")
    assert (still.status, still.body) == (200, OBJECT), "the server stopped serving"


@pytest.fixture(scope="module", params=["in-process", "serve"])
def server(request, tmp_path_factory) -> Iterator[Target]:
    root = tmp_path_factory.mktemp(f"sandbox-{request.param}")
    if request.param == "in-process":
        with _in_process(root) as t:
            yield _prepare(t)
            _leaves_nothing_outside(t)
        return
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    process = ServeProcess(root / "data", log=log)
    t = _prepare(Target("serve", process.port, root, root / "data"))
    try:
        yield t
        _leaves_nothing_outside(t)
    finally:
        assert process.stop() == 0
    assert "Traceback" not in process.log_text()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> Iterator[Target]:
    """The in-process server alone: OSS-level arguments do not depend on the HTTP server."""
    with _in_process(tmp_path_factory.mktemp("sandbox-emulator")) as t:
        yield _prepare(t)
        _leaves_nothing_outside(t)


def assert_error(response: RawResponse, status: int, code: str) -> None:
    """An OSS ``<Error>`` document with this status and code, and a request id."""
    assert (response.status, response.code) == (status, code), response.body[:300]
    assert b"<RequestId>" in response.body


# -- object keys ---------------------------------------------------------------------------------

BAD_KEYS = {
    "absolute": "/etc/passwd",
    "backslash": "\\windows",
    "NUL": "a\x00b",
    "control": "a\x01b",
    "DEL": "a\x7fb",
    "CR LF": "a\r\nX-Injected: 1",
    "LF": "a\nb",
    "1024 bytes": "k" * 1024,
    "1026 bytes of 3-byte characters": "\u20ac" * 342,
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_invalid_object_names_are_refused_and_store_nothing(emulator, key):
    assert_error(emulator.request("PUT", BUCKET, key, body=b"x"), 400, "InvalidObjectName")
    assert_error(emulator.request("GET", BUCKET, key), 404, "NoSuchKey")


GOOD_KEYS = {
    "traversal": "../../../escaped",
    "dot segments": "a/./b/../c",
    "only dots": "..",
    "1023 bytes": "k" * 1023,
    "1023 bytes of 3-byte characters": "\u20ac" * 341,
    "emoji": "\U0001f600/\U0001f4a9",
    "U+FFFE": "x\ufffe",
    "double slash": "a//b",
    "trailing slash": "dir/",
}


@pytest.mark.parametrize("key", GOOD_KEYS.values(), ids=GOOD_KEYS.keys())
def test_odd_but_valid_keys_round_trip_and_stay_inside_the_data_dir(emulator, key):
    body = hashlib.sha256(key.encode()).digest()
    assert emulator.request("PUT", BUCKET, key, body=body).status == 200
    got = emulator.request("GET", BUCKET, key)
    assert (got.status, got.body) == (200, body)
    assert not list(emulator.root.parent.rglob("escaped")), "a key became a path"


def test_unicode_normal_forms_are_different_keys(emulator):
    nfc, nfd = "caf\u00e9-nf", "cafe\u0301-nf"
    assert emulator.request("PUT", BUCKET, nfc, body=b"composed").status == 200
    assert emulator.request("PUT", BUCKET, nfd, body=b"decomposed").status == 200
    assert emulator.request("GET", BUCKET, nfc).body == b"composed"
    assert emulator.request("GET", BUCKET, nfd).body == b"decomposed"
    listing = emulator.request("GET", BUCKET, None, params=[("prefix", "caf")]).body
    assert listing.count(b"<Key>") == 2


@pytest.mark.parametrize("method", ["PUT", "GET", "HEAD", "DELETE"])
def test_a_key_that_is_not_utf8_is_an_invalid_object_name(server, method):
    # OSS error centre 0016-00000004. The WSGI servers would decode %FF as U+FFFD, a different
    # and valid name, so the raw bytes are checked.
    sent = server.request(method, BUCKET, "x", body=b"x", raw_target=f"/{BUCKET}/a%FFb")
    if method == "HEAD":
        assert sent.status == 400 and "InvalidObjectName" in sent.code
    else:
        assert_error(sent, 400, "InvalidObjectName")
        assert b"<EC>0016-00000004</EC>" in sent.body
    assert server.request("GET", BUCKET, "a\ufffdb").status == 404
    listing = server.request("GET", BUCKET, None, params=[("prefix", "a")]).body
    assert b"<Key>a" not in listing


def test_a_bucket_name_that_is_not_utf8_is_invalid(server):
    assert_error(server.request("PUT", "x", None, raw_target="/b%FFb"), 400, "InvalidBucketName")


# -- bucket names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "Upper", "-dash", "dash-", "under_score", "a..b", "a.b", "b\x00b"]
)
def test_invalid_bucket_names(emulator, name):
    assert_error(emulator.request("PUT", name, None), 400, "InvalidBucketName")


def test_control_characters_in_a_bucket_name_are_invalid(emulator):
    assert_error(emulator.request("PUT", "b\nb", None), 400, "InvalidBucketName")


# -- Range -----------------------------------------------------------------------------------------

RANGES = [
    ("bytes=0-0", 206, b"0"),
    ("bytes=-3", 206, b"789"),
    ("bytes=7-", 206, b"789"),
    ("bytes=0-99999999999999999999999999999", 206, OBJECT),
    ("bytes=-99999999999999999999999999999", 206, OBJECT),
    # OSS ignores ranges it cannot parse, and multi-ranges, and sends the whole object.
    ("bytes=5-1", 200, OBJECT),
    ("bytes=a-b", 200, OBJECT),
    ("bytes=0-1,3-4", 200, OBJECT),
    ("items=0-1", 200, OBJECT),
    ("bytes=\xb2-\xb3", 200, OBJECT),
    ("bytes=" + "9" * 5000 + "-", 416, b""),
]


@pytest.mark.parametrize(("header", "status", "body"), RANGES, ids=[r[0][:40] for r in RANGES])
def test_range_headers(emulator, header, status, body):
    got = emulator.request("GET", BUCKET, "obj", headers={"Range": header})
    assert got.status == status, got.body[:200]
    if status == 416:
        assert got.code == "InvalidRange"
    else:
        assert got.body == body


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=-0", "bytes=10-20"])
def test_unsatisfiable_ranges_are_invalid_range(emulator, header):
    assert_error(
        emulator.request("GET", BUCKET, "obj", headers={"Range": header}), 416, "InvalidRange"
    )


# -- multipart arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["0", "10001", "-1", "abc", "", "1.5", " 1", "\u00b2", "\u0661", "9" * 5000]
)
def test_bad_part_numbers_are_invalid_argument(emulator, number):
    upload_id = emulator.upload_id("mp")
    response = emulator.request(
        "PUT", BUCKET, "mp", params=[("partNumber", number), ("uploadId", upload_id)], body=b"x"
    )
    assert_error(response, 400, "InvalidArgument")


@pytest.mark.parametrize("upload_id", ["nope", "../../x", "A" * 1000, "\x00", "\u00e9", "1 OR 1=1"])
@pytest.mark.parametrize(
    ("method", "extra"),
    [("PUT", [("partNumber", "1")]), ("POST", []), ("GET", []), ("DELETE", [])],
    ids=["UploadPart", "Complete", "ListParts", "Abort"],
)
def test_unknown_upload_ids_are_no_such_upload(emulator, upload_id, method, extra):
    body = b"x" if method == "PUT" else b""
    if method == "POST":
        body = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"
        body += b"</CompleteMultipartUpload>"
    params = [*extra, ("uploadId", upload_id)]
    assert_error(
        emulator.request(method, BUCKET, "mp", params=params, body=body), 404, "NoSuchUpload"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("part-number-marker", "9" * 30),
        ("part-number-marker", "\u00b2"),
        ("max-parts", "\u00b2"),
        ("max-parts", "0"),
        ("max-parts", "9" * 5000),
    ],
)
def test_bad_list_parts_arguments_are_invalid_argument(emulator, name, value):
    upload_id = emulator.upload_id("mp")
    params = [("uploadId", upload_id), (name, value)]
    response = emulator.request("GET", BUCKET, "mp", params=params)
    assert_error(response, 400, "InvalidArgument")


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "0", "1001", "9" * 5000, "-1"])
def test_bad_max_keys_is_invalid_argument(emulator, value):
    response = emulator.request("GET", BUCKET, None, params=[("max-keys", value)])
    assert_error(response, 400, "InvalidArgument")


# -- XML bodies ----------------------------------------------------------------------------------

_PART = "<Part><PartNumber>{}</PartNumber><ETag>e</ETag></Part>"
XML = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    )
    + b"]><Delete><Object><Key>&i;</Key></Object></Delete>",
    "external entity": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<Delete><Object><Key>&x;</Key></Object></Delete>",
    "external DTD": b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/x.dtd">'
    b"<Delete><Object><Key>k</Key></Object></Delete>",
    "deep nesting": b"<Delete>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</Delete>",
    "huge document": b"<Delete>" + b"<Object><Key>k</Key></Object>" * 200_000 + b"</Delete>",
    "1001 keys": b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
    "empty": b"",
    "not XML": b"\xff\xfe\x00garbage",
    "unclosed": b"<Delete><Object><Key>k</Key>",
    "wrong root": b"<Remove><Object><Key>k</Key></Object></Remove>",
}
COMPLETE_XML = {
    "superscript part number": f"<CompleteMultipartUpload>{_PART.format(chr(0xB2))}"
    "</CompleteMultipartUpload>".encode(),
    "5000-digit part number": f"<CompleteMultipartUpload>{_PART.format('9' * 5000)}"
    "</CompleteMultipartUpload>".encode(),
    "no parts": b"<CompleteMultipartUpload></CompleteMultipartUpload>",
    "part without ETag": b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
    b"</CompleteMultipartUpload>",
    "billion laughs": XML["billion laughs"].replace(b"Delete", b"CompleteMultipartUpload"),
    "external entity": XML["external entity"].replace(b"Delete", b"CompleteMultipartUpload"),
}


@pytest.mark.parametrize("body", XML.values(), ids=XML.keys())
def test_hostile_delete_documents_are_malformed_xml(emulator, body):
    response = emulator.request("POST", BUCKET, None, params=[("delete", "")], body=body)
    assert_error(response, 400, "MalformedXML")
    assert emulator.request("GET", BUCKET, "obj").status == 200


@pytest.mark.parametrize("body", COMPLETE_XML.values(), ids=COMPLETE_XML.keys())
def test_hostile_complete_documents_are_malformed_xml(emulator, body):
    upload_id = emulator.upload_id("mp-xml")
    response = emulator.request(
        "POST", BUCKET, "mp-xml", params=[("uploadId", upload_id)], body=body
    )
    assert_error(response, 400, "MalformedXML")


# -- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"x-oss-meta-big": "a" * 100_000}, {f"x-h{i}": "v" * 100 for i in range(500)}],
    ids=["one 100 KB header", "500 headers"],
)
def test_oversized_headers_are_refused_before_the_app(server, headers):
    response = server.request("GET", BUCKET, "obj", headers=headers)
    assert response.status in (400, 431)


@pytest.mark.parametrize(
    "raw_header",
    [b"X-A: a\rb", b"X-A: a\r\n b", b"NoColon", b"Bad Name: v", b"X-A: \x00"],
    ids=["bare CR", "obsolete folding", "no colon", "space in name", "NUL"],
)
def test_malformed_header_lines_never_reach_storage(server, raw_header):
    head = f"PUT {target(BUCKET, 'framing')} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
    signed = signed_headers("PUT", BUCKET, "framing", headers={"Content-Length": "1"})
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items() if k != "Content-Length")
    response = raw_exchange(
        server.port, head.encode() + raw_header + b"\r\nConnection: close\r\n\r\nx"
    )
    assert response.status != 500
    if response.status == 200:  # the server read the line leniently; nothing got split
        assert server.request("GET", BUCKET, "framing").body == b"x"


def test_an_overlong_request_line_is_refused_before_the_app(server):
    response = server.request("GET", BUCKET, "k" * 20_000)
    assert response.status in (400, 404, 414), response.body[:200]


def test_non_ascii_metadata_round_trips_as_bytes(server):
    value = "caf\u00e9 \u6f22\u5b57".encode().decode("latin-1")  # UTF-8 bytes on the wire
    put = server.request("PUT", BUCKET, "meta", headers={"x-oss-meta-n": value}, body=b"m")
    assert put.status == 200
    got = server.request("GET", BUCKET, "meta")
    assert got.headers["x-oss-meta-n"].encode("latin-1").decode() == "caf\u00e9 \u6f22\u5b57"


@pytest.mark.parametrize(
    "value", ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "a\x7fb"], ids=["CRLF", "LF", "NUL", "DEL"]
)
def test_response_header_overrides_cannot_carry_control_characters(emulator, value):
    params = [("response-content-type", value)]
    assert_error(emulator.request("GET", BUCKET, "obj", params=params), 400, "InvalidArgument")


def test_response_header_override_with_utf8_is_sent_as_utf8_bytes(server):
    disposition = "attachment; filename=\u6f22\u5b57.txt"
    params = [("response-content-disposition", disposition)]
    got = server.request("GET", BUCKET, "obj", params=params)
    assert got.status == 200 and got.body == OBJECT
    assert got.headers["content-disposition"].encode("latin-1").decode() == disposition


def test_a_host_header_that_is_not_a_host_is_ignored(emulator):
    got = emulator.request("GET", BUCKET, "obj", headers={"Host": "[::1"})
    assert (got.status, got.body) == (200, OBJECT)


# -- bodies and their lengths --------------------------------------------------------------------


def _send_head(
    port: int,
    method: str,
    key: str,
    headers: dict[str, str],
    params: tuple[tuple[str, str], ...] = (),
) -> socket.socket:
    signed = signed_headers(method, BUCKET, key, params, headers)
    head = f"{method} {target(BUCKET, key, params)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(wire(head))
    return sock


def _answer(sock: socket.socket) -> RawResponse:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    return parse_response(b"".join(chunks))


@pytest.mark.parametrize("length", ["abc", "-1", "0x10", "1, 1", "\u00b2", "1e3"], ids=repr)
def test_content_length_that_is_not_a_number_is_refused(server, length):
    sock = _send_head(server.port, "PUT", "cl", {"Content-Length": length})
    sock.sendall(b"x")
    sock.shutdown(socket.SHUT_WR)
    response = _answer(sock)
    assert response.status == 400
    assert server.request("GET", BUCKET, "cl").status == 404


def test_part_body_shorter_than_its_content_length_is_incomplete(server):
    upload_id = server.upload_id("short-part")
    params = (("partNumber", "1"), ("uploadId", upload_id))
    sock = _send_head(server.port, "PUT", "short-part", {"Content-Length": "5000"}, params)
    sock.sendall(b"only part of it")
    sock.shutdown(socket.SHUT_WR)
    assert_error(_answer(sock), 400, "IncompleteBody")
    listing = server.request("GET", BUCKET, "short-part", params=[("uploadId", upload_id)])
    assert b"<Part>" not in listing.body


def test_a_huge_declared_length_with_a_short_body_stores_nothing(server):
    sock = _send_head(server.port, "PUT", "huge", {"Content-Length": "9" * 25})
    sock.sendall(b"abc")
    sock.shutdown(socket.SHUT_WR)
    assert _answer(sock).status == 400
    assert server.request("GET", BUCKET, "huge").status == 404


def test_bytes_beyond_the_content_length_are_not_part_of_the_object(server):
    got = server.request("PUT", BUCKET, "exact", headers={"Content-Length": "3"}, body=b"abcdef")
    assert got.status == 200
    assert server.request("GET", BUCKET, "exact").body == b"abc"


@pytest.mark.parametrize(
    "chunked",
    [b"zz\r\nx\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"5\r\nab", b"-1\r\nx\r\n0\r\n\r\n"],
    ids=["bad size", "size lies", "stops mid-chunk", "negative size"],
)
def test_malformed_chunked_bodies_store_nothing(server, chunked):
    sock = _send_head(server.port, "PUT", "chunky", {"Transfer-Encoding": "chunked"})
    sock.sendall(chunked)
    sock.shutdown(socket.SHUT_WR)
    response = _answer(sock)
    assert response.status == 400, response.body[:300]
    assert response.code in ("IncompleteBody", ""), response.body[:300]  # "": HTTP-layer refusal
    assert server.request("GET", BUCKET, "chunky").status == 404


def test_slow_senders_do_not_stop_other_clients(server):
    """Uploads stall mid-body; others are served meanwhile, then the stalled ones finish."""
    stalled = []
    for n in range(2):
        sock = _send_head(server.port, "PUT", f"slow-{n}", {"Content-Length": "10"})
        sock.sendall(b"01234")
        stalled.append(sock)
    for n in range(5):
        assert server.request("PUT", BUCKET, f"meanwhile-{n}", body=b"fast").status == 200
        assert server.request("GET", BUCKET, "obj").body == OBJECT
    for sock in stalled:
        sock.sendall(b"56789")
    assert [_answer(s).status for s in stalled] == [200] * 2
    assert server.request("GET", BUCKET, "slow-1").body == b"0123456789"


# -- property tests ------------------------------------------------------------------------------

_key_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=60,
)


@EXAMPLES
@given(key=_key_text)
def test_any_key_is_stored_whole_or_refused_as_invalid_object_name(emulator, key):
    body = key.encode("utf-8", "surrogatepass")
    response = emulator.request("PUT", BUCKET, f"p/{key}", body=body)
    if response.status == 200:
        got = emulator.request("GET", BUCKET, f"p/{key}")
        assert (got.status, got.body) == (200, body)
    else:
        assert_error(response, 400, "InvalidObjectName")


@EXAMPLES
@given(header=st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40))
def test_any_range_header_gets_a_whole_answer(emulator, header):
    response = emulator.request("GET", BUCKET, "obj", headers={"Range": header})
    assert response.status in (200, 206, 416), response.body[:200]
    if response.status == 200:
        assert response.body == OBJECT
    elif response.status == 206:
        span = re.fullmatch(r"bytes (\d+)-(\d+)/10", response.headers["content-range"])
        assert span, response.headers
        start, end = int(span.group(1)), int(span.group(2))
        assert response.body == OBJECT[start : end + 1]
    else:
        assert response.code == "InvalidRange"


_query_values = st.one_of(
    st.text(max_size=12), st.integers(-(10**30), 10**30).map(str), st.sampled_from(["", "\u00b2"])
)


@EXAMPLES
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "max-keys",
                    "marker",
                    "prefix",
                    "delimiter",
                    "encoding-type",
                    "list-type",
                    "continuation-token",
                    "start-after",
                    "uploads",
                    "max-uploads",
                    "key-marker",
                    "upload-id-marker",
                ]
            ),
            _query_values,
        ),
        max_size=4,
    )
)
def test_any_listing_query_is_answered_or_invalid_argument(emulator, params):
    response = emulator.request("GET", BUCKET, None, params=params)
    assert response.status in (200, 400), response.body[:300]
    if response.status == 400:
        assert response.code == "InvalidArgument"


@EXAMPLES
@given(
    number=_query_values,
    upload=st.one_of(st.just("real"), st.text(max_size=20)),
    marker=_query_values,
)
def test_any_part_number_and_upload_id_gets_an_oss_error_or_works(emulator, number, upload, marker):
    upload_id = emulator.upload_id("prop-mp") if upload == "real" else upload
    params = [("partNumber", number), ("uploadId", upload_id)]
    put = emulator.request("PUT", BUCKET, "prop-mp", params=params, body=b"p")
    assert (put.status, put.code) in ((200, ""), (400, "InvalidArgument"), (404, "NoSuchUpload"))
    listed = emulator.request(
        "GET", BUCKET, "prop-mp", params=[("uploadId", upload_id), ("part-number-marker", marker)]
    )
    assert (listed.status, listed.code) in (
        (200, ""),
        (400, "InvalidArgument"),
        (404, "NoSuchUpload"),
    )


_xml_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_complete_docs = st.builds(
    lambda parts, junk: (
        "<CompleteMultipartUpload>"
        + "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
        + junk
        + "</CompleteMultipartUpload>"
    ).encode(),
    st.lists(st.tuples(_query_values, _xml_text), max_size=3),
    st.sampled_from(["", "<x/>", "&amp;", "<!-- c -->", "<Part/>"]),
) | st.binary(max_size=200)


@EXAMPLES
@given(body=_complete_docs)
def test_any_complete_document_gets_an_oss_error(emulator, body):
    upload_id = emulator.upload_id("prop-complete")
    response = emulator.request(
        "POST", BUCKET, "prop-complete", params=[("uploadId", upload_id)], body=body
    )
    assert (response.status, response.code) in (
        (400, "MalformedXML"),
        (400, "InvalidPart"),
        (400, "InvalidPartOrder"),
    ), response.body[:300]


# -- callbacks: parsing and template substitution, end to end ------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as receiver:
        yield receiver


def _b64(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


_var_values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@EXAMPLES
@given(key=_key_text, value=_var_values, form=st.booleans())
def test_template_values_arrive_exactly_as_uploaded(emulator, receiver, key, value, form):
    receiver.clear()
    if form:
        body, body_type = "k=${object}&v=${x:v}&s=${size}", "application/x-www-form-urlencoded"
    else:
        body, body_type = '{"k":${object},"v":${x:v},"s":${size}}', "application/json"
    headers = {
        "x-oss-callback": _b64(
            {"callbackUrl": receiver.url, "callbackBody": body, "callbackBodyType": body_type}
        ),
        "x-oss-callback-var": _b64({"x:v": value}),
    }
    response = emulator.request("PUT", BUCKET, f"cb/{key}", headers=headers, body=b"12345")
    if response.status == 400:
        assert response.code in ("InvalidObjectName", "InvalidArgument")
        return
    assert response.status == 200, response.body[:300]
    (callback,) = receiver.wait_for(1)
    assert callback.verified
    if form:
        fields = dict(parse_qsl(callback.body.decode(), keep_blank_values=True))
        assert fields == {"k": f"cb/{key}", "v": value, "s": "5"}
    else:
        assert json.loads(callback.body) == {"k": f"cb/{key}", "v": value or None, "s": 5}


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
# Callback URLs stay on loopback (or fail to parse): a random host name would be a DNS query.
_callback_urls = (
    st.sampled_from(
        [
            "RECEIVER",
            "http://127.0.0.1:9/closed",
            "RECEIVER;http://127.0.0.1:9/x",
            "",
            "ftp://127.0.0.1/x",
            "http://[::1",
            "http://127.0.0.1:0/",
            "http://user@127.0.0.1/",
            "127.0.0.1:99999",
            "a;b;c;d;e;f",
            "http://127.0.0.1/\r\nX-Injected: 1",
        ]
    )
    | st.none()
    | st.integers()
    | st.lists(st.none(), max_size=1)
)
_configs = st.fixed_dictionaries(
    {},
    optional={
        "callbackUrl": _callback_urls,
        "callbackBody": st.sampled_from(["a=${bucket}", "${x:a}${", "{}", "", "${}"])
        | _json_values,
        "callbackBodyType": st.sampled_from(["application/json", "APPLICATION/JSON", "text/x"])
        | _json_values,
        "callbackHost": st.text(max_size=20) | _json_values,
        "callbackSNI": _json_values,
    },
)


@EXAMPLES
@given(
    config=_configs,
    variables=st.dictionaries(st.text(max_size=6), _json_values, max_size=3),
    raw=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
    use_raw=st.booleans(),
)
def test_any_callback_header_is_refused_before_storing_or_delivered(
    emulator, receiver, config, variables, raw, use_raw
):
    if isinstance(config.get("callbackUrl"), str):
        config["callbackUrl"] = config["callbackUrl"].replace("RECEIVER", receiver.url)
    headers = {
        "x-oss-callback": raw if use_raw else _b64(config),
        "x-oss-callback-var": _b64(variables),
    }
    key = f"cbp/{hashlib.md5(repr((config, variables, raw, use_raw)).encode()).hexdigest()}"
    response = emulator.request("PUT", BUCKET, key, headers=headers, body=b"x")
    if response.status == 400:
        assert response.code == "InvalidArgument", response.body[:300]
        assert emulator.request("GET", BUCKET, key).status == 404, "stored despite a bad callback"
    else:
        assert response.status in (200, 203), response.body[:300]
        assert emulator.request("GET", BUCKET, key).body == b"x"


# -- the control API -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "delay", "delay": "slow"},
        {"status": "abc"},
        {"status": 0},
        {"times": "2"},
        {"delay": -1},
        {"part_number": "1"},
        {"action": ["error"]},
        {"unknown": 1},
        ["not", "an", "object"],
        "not JSON at all",
    ],
    ids=repr,
)
def test_a_bad_fault_rule_is_refused_and_breaks_nobody(emulator, rule):
    body = rule.encode() if isinstance(rule, str) else json.dumps(rule).encode()
    head = (
        "POST /_ossemu/faults HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    assert raw_exchange(emulator.port, head.encode() + body).status == 400
    got = emulator.request("GET", BUCKET, "obj")
    assert (got.status, got.body) == (200, OBJECT)
