"""Bad input from hypothesis: any key, Range header, listing query or Complete document.

Whatever is generated gets a whole answer or OSS's error with the right status - never a 500.
The cases run in-process, where an example costs a millisecond.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.reliability.helpers import BUCKET, EXAMPLES, OBJECT, assert_error, key_text


@EXAMPLES
@given(key=key_text)
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
