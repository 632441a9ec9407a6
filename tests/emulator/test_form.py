"""The streaming form reader: fields first, then the file's chunks, and OSS's limits."""

from __future__ import annotations

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.protocol.form import boundary_of, read_form
from tests.support import form_body


def chunked(body: bytes, size: int):
    return iter([body[i : i + size] for i in range(0, len(body), size)])


@pytest.mark.parametrize("size", [1, 7, 64 * 1024])
def test_fields_then_file_whatever_the_chunking(size):
    body, content_type = form_body(
        [("Key", "a/${filename}"), ("X-OSS-Meta-A", "é"), ("key", "second")],
        b"\r\n--not-the-boundary\r\n" * 50,
        filename="C:\\Users\\me\\pic.png",
        after=[("submit", "Upload")],
    )

    form = read_form(content_type, chunked(body, size))

    assert form.fields == {"key": "a/${filename}", "x-oss-meta-a": "é"}
    assert form.filename == "pic.png"
    assert b"".join(form.chunks) == b"\r\n--not-the-boundary\r\n" * 50


def test_the_file_is_not_read_until_its_chunks_are():
    body, content_type = form_body([("key", "k")], b"x" * 1000)
    served = []

    def pieces():
        for piece in chunked(body, 100):
            served.append(piece)
            yield piece

    form = read_form(content_type, pieces())
    assert len(served) < 3  # the fields, not the file's 1000 bytes

    assert b"".join(form.chunks) == b"x" * 1000
    assert b"".join(served) == body


def test_a_second_file_raises_once_the_first_is_read():
    body, content_type = form_body([("key", "k")], b"one", after=[("FILE", "two")])
    form = read_form(content_type, iter([body]))

    with pytest.raises(OssError) as caught:
        b"".join(form.chunks)

    assert caught.value.code == "IncorrectNumberOfFilesInPOSTRequest"


def test_a_part_without_content_disposition_is_malformed():
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"

    with pytest.raises(OssError) as caught:
        read_form("multipart/form-data; boundary=b", iter([body]))

    assert (caught.value.code, caught.value.ec) == ("MalformedPOSTRequest", "0006-00000109")


def test_a_field_value_over_2_mib_is_too_long():
    body, content_type = form_body([("key", "v" * (2 * 1024 * 1024 + 1))], b"")

    with pytest.raises(OssError) as caught:
        read_form(content_type, chunked(body, 65536))

    assert caught.value.code == "FieldItemTooLong"


def test_a_value_that_is_not_utf8_is_malformed():
    body = b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n\xff\r\n--b--\r\n'

    with pytest.raises(OssError) as caught:
        read_form("multipart/form-data; boundary=b", iter([body]))

    assert caught.value.code == "MalformedPOSTRequest"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data",
        "multipart/mixed; boundary=b",
        "multipart/form-data; boundary=",
    ],
)
def test_only_multipart_form_data_with_a_boundary_is_a_form(content_type):
    with pytest.raises(OssError) as caught:
        boundary_of(content_type)

    assert caught.value.code == "RequestIsNotMultiPartContent"


def test_quoted_boundary():
    assert boundary_of('multipart/form-data; boundary="a b"') == "a b"
