"""Rendering callbackBody: every variable, in form and JSON bodies, as OSS substitutes them."""

from __future__ import annotations

import io
import json
from types import MappingProxyType
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ossemu.emulator.callbacks import (
    FORM_TYPE,
    JSON_TYPE,
    CallbackContext,
    CallbackSpec,
    render_body,
)

CTX = CallbackContext(
    bucket="callback-test",
    key="dir/photo 1+2.txt",
    etag="D8E8FCA2DC0F896FD7CB4CB0031BA249",
    size=5,
    mime_type="text/plain",
    crc64=11051210869376104954,
    content_md5="1B2M2Y8AsgTpgAmY7PhCfg==",
    client_ip="127.0.0.1",
    request_id="566B6BEB1BA604C27DD43805",
    operation="PutObject",
)


def spec(body: str, body_type: str = FORM_TYPE, **variables: str) -> CallbackSpec:
    return CallbackSpec(
        urls=("http://127.0.0.1:1/cb",),
        host=None,
        body=body,
        body_type=body_type,
        sni=False,
        variables=MappingProxyType({f"x:{k}": v for k, v in variables.items()}),
    )


def image(format_name: str, size: tuple[int, int] = (3, 2)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=format_name)
    return buffer.getvalue()


def with_data(data: bytes, **changes: object) -> CallbackContext:
    fields = {**CTX.__dict__, "open_data": lambda: io.BytesIO(data), **changes}
    return CallbackContext(**fields)


@pytest.mark.parametrize(
    ("variable", "form", "json_literal"),
    [
        ("bucket", "callback-test", '"callback-test"'),
        ("object", "dir%2Fphoto%201%2B2.txt", '"dir/photo 1+2.txt"'),
        ("etag", "D8E8FCA2DC0F896FD7CB4CB0031BA249", '"D8E8FCA2DC0F896FD7CB4CB0031BA249"'),
        ("size", "5", "5"),
        ("mimeType", "text%2Fplain", '"text/plain"'),
        ("imageInfo.height", "", "null"),
        ("imageInfo.width", "", "null"),
        ("imageInfo.format", "", "null"),
        ("crc64", "11051210869376104954", "11051210869376104954"),
        ("contentMd5", "1B2M2Y8AsgTpgAmY7PhCfg%3D%3D", '"1B2M2Y8AsgTpgAmY7PhCfg=="'),
        ("vpcId", "", "null"),
        ("clientIp", "127.0.0.1", '"127.0.0.1"'),
        ("reqId", "566B6BEB1BA604C27DD43805", '"566B6BEB1BA604C27DD43805"'),
        ("operation", "PutObject", '"PutObject"'),
        ("x:my_var", "for%20callback%2Ftest~", '"for callback/test~"'),
    ],
)
def test_each_variable_in_form_and_json_bodies(variable, form, json_literal):
    variables = {"my_var": "for callback/test~"}
    assert render_body(spec(f"v=${{{variable}}}", **variables), CTX) == f"v={form}".encode()
    rendered = render_body(spec(f'{{"v":${{{variable}}}}}', JSON_TYPE, **variables), CTX)
    assert rendered == f'{{"v":{json_literal}}}'.encode()
    json.loads(rendered)


def test_documented_form_example_renders_byte_for_byte():
    template = (
        "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}"
        "&imageInfo.height=${imageInfo.height}&imageInfo.width=${imageInfo.width}"
        "&imageInfo.format=${imageInfo.format}&x:var1=${x:var1}"
    )
    ctx = with_data(b"test\n", key="test.txt")
    body = render_body(spec(template, var1="for-callback-test"), ctx)
    assert body == (
        b"bucket=callback-test&object=test.txt&etag=D8E8FCA2DC0F896FD7CB4CB0031BA249&size=5"
        b"&mimeType=text%2Fplain&imageInfo.height=&imageInfo.width=&imageInfo.format="
        b"&x:var1=for-callback-test"
    )
    assert len(body) == 181


@pytest.mark.parametrize(
    ("pillow_format", "oss_format"),
    [("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp"), ("BMP", "bmp")],
)
def test_image_info_is_read_from_the_uploaded_image(pillow_format, oss_format):
    ctx = with_data(image(pillow_format, (7, 5)), mime_type="image/whatever")
    form = "h=${imageInfo.height}&w=${imageInfo.width}&f=${imageInfo.format}"
    assert render_body(spec(form), ctx) == f"h=5&w=7&f={oss_format}".encode()
    template = '{"h":${imageInfo.height},"w":${imageInfo.width},"f":${imageInfo.format}}'
    assert json.loads(render_body(spec(template, JSON_TYPE), ctx)) == {
        "h": 5,
        "w": 7,
        "f": oss_format,
    }


def test_image_info_is_empty_for_non_images_and_truncated_images():
    template = "h=${imageInfo.height}&f=${imageInfo.format}"
    assert render_body(spec(template), with_data(b"%PDF-1.4 not an image")) == b"h=&f="
    assert render_body(spec(template), with_data(image("PNG")[:20])) == b"h=&f="


def test_object_data_is_read_only_when_the_template_asks_for_image_info():
    opened = []

    def open_data():
        opened.append(True)
        return io.BytesIO(image("PNG"))

    ctx = with_data(b"", open_data=open_data)
    render_body(spec("bucket=${bucket}&size=${size}"), ctx)
    assert opened == []
    assert render_body(spec("w=${imageInfo.width}&h=${imageInfo.height}"), ctx) == b"w=3&h=2"
    assert opened == [True]


def test_multipart_upload_values_render_as_given():
    ctx = with_data(
        b"",
        etag="1C787C506EABFB9B45EAAA8DB039F4B2-2",
        content_md5="",
        operation="CompleteMultipartUpload",
    )
    template = '{"etag":${etag},"md5":${contentMd5},"op":${operation}}'
    assert json.loads(render_body(spec(template, JSON_TYPE), ctx)) == {
        "etag": "1C787C506EABFB9B45EAAA8DB039F4B2-2",
        "md5": None,
        "op": "CompleteMultipartUpload",
    }
    assert render_body(spec("md5=${contentMd5}"), ctx) == b"md5="


def test_unknown_and_undefined_variables_render_empty():
    template = "a=${nope}&b=${x:undefined}&c=${Bucket}&d=${ bucket }"
    assert render_body(spec(template), CTX) == b"a=&b=&c=&d="
    rendered = render_body(
        spec('{"a":${nope},"b":${x:undefined},"c":${x:empty}}', JSON_TYPE, empty=""), CTX
    )
    assert json.loads(rendered) == {"a": None, "b": None, "c": None}


def test_text_that_is_not_a_variable_stays_literal():
    template = "a=$(bucket)&b=%24%7Bbucket%7D&c=$bucket&d={bucket}&e=${bucket"
    assert render_body(spec(template), CTX) == template.encode()


def test_substituted_values_are_not_substituted_again():
    assert render_body(spec("v=${x:v}", v="${bucket}"), CTX) == b"v=%24%7Bbucket%7D"
    assert render_body(spec('{"v":${x:v}}', JSON_TYPE, v="${bucket}"), CTX) == b'{"v":"${bucket}"}'


def test_json_strings_are_escaped_and_utf8_encoded():
    value = 'quote " backslash \\ tab \t 杭州 😀'
    rendered = render_body(
        spec('{"v":${x:v},"k":${object}}', JSON_TYPE, v=value), with_data(b"", key="目录/文件.txt")
    )
    assert json.loads(rendered.decode("utf-8")) == {"v": value, "k": "目录/文件.txt"}


def test_form_template_text_is_sent_verbatim_with_non_ascii():
    assert render_body(spec("名=${x:v}&sp ace=1", v="杭州"), CTX) == (
        "名=%E6%9D%AD%E5%B7%9E&sp ace=1".encode()
    )


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_text, _text, _text)
def test_form_rendering_round_trips_through_parse_qs(first, second, key):
    ctx = with_data(b"", key=key)
    body = render_body(spec("a=${x:a}&b=${x:b}&k=${object}&n=${size}", a=first, b=second), ctx)
    assert body.isascii()
    assert parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True) == {
        "a": [first],
        "b": [second],
        "k": [key],
        "n": ["5"],
    }


@settings(max_examples=100, deadline=None)
@given(_text)
def test_json_rendering_round_trips_through_json_loads(value):
    rendered = render_body(spec('{"v":${x:v},"size":${size}}', JSON_TYPE, v=value), CTX)
    assert json.loads(rendered) == {"v": value or None, "size": 5}
