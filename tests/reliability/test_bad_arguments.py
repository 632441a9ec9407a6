"""Bad OSS arguments - Range, multipart and listing parameters, XML documents, fault rules.

Each gets OSS's error with the right status - never a 500 - and the server keeps serving.
These cases do not depend on the HTTP server, so they run in-process, where one costs a
millisecond.
"""

from __future__ import annotations

import json

import pytest

from tests.reliability.helpers import BUCKET, OBJECT, assert_error
from tests.support import raw_exchange

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


@pytest.mark.parametrize("value", ["base64", "URL", "url,url"])
def test_delete_multiple_objects_with_a_bad_encoding_type_is_invalid_argument(emulator, value):
    body = b"<Delete><Object><Key>obj</Key></Object></Delete>"
    params = [("delete", ""), ("encoding-type", value)]
    response = emulator.request("POST", BUCKET, None, params=params, body=body)
    assert_error(response, 400, "InvalidArgument")
    assert b"<Message>The encoding-type argument is invalid.</Message>" in response.body
    assert b"<ArgumentName>encoding-type</ArgumentName>" in response.body
    assert emulator.request("GET", BUCKET, "obj").status == 200  # nothing was deleted


@pytest.mark.parametrize("body", COMPLETE_XML.values(), ids=COMPLETE_XML.keys())
def test_hostile_complete_documents_are_malformed_xml(emulator, body):
    upload_id = emulator.upload_id("mp-xml")
    response = emulator.request(
        "POST", BUCKET, "mp-xml", params=[("uploadId", upload_id)], body=body
    )
    assert_error(response, 400, "MalformedXML")


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
        "POST /_ossemu/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    assert raw_exchange(emulator.port, head.encode() + body).status == 400
    got = emulator.request("GET", BUCKET, "obj")
    assert (got.status, got.body) == (200, OBJECT)
