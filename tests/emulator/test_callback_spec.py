"""Parsing x-oss-callback / callback-var: what OSS accepts, and a clear 400 for everything else."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossemu.emulator.callbacks import FORM_TYPE, JSON_TYPE, CallbackSpec, parse_callback
from ossemu.emulator.protocol.errors import BadRequest
from tests.support import b64json


def headers(variables: dict | None = None, **config: object) -> dict[str, str]:
    config.setdefault("callbackUrl", "http://127.0.0.1:8080/cb")
    config.setdefault("callbackBody", "bucket=${bucket}")
    result = {"x-oss-callback": b64json(config)}
    if variables is not None:
        result["x-oss-callback-var"] = b64json(variables)
    return result


def rejected(
    request_headers: dict[str, str], query: dict[str, str] | None = None, **kwargs: object
) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_callback(request_headers, query or {}, **kwargs)
    error = caught.value
    assert (error.status, error.code) == (400, "InvalidArgument")
    ET.fromstring(error.to_xml("REQUESTID", "bucket.localhost"))  # always well-formed XML
    return error


def test_put_object_callback_from_header_is_parsed():
    spec = parse_callback(
        headers(
            {"x:my_var": "for-callback-test"},
            callbackHost="app.example.com",
            callbackBodyType="application/json",
            callbackSNI=True,
        ),
        {},
    )
    assert spec == CallbackSpec(
        urls=("http://127.0.0.1:8080/cb",),
        host="app.example.com",
        body="bucket=${bucket}",
        body_type=JSON_TYPE,
        sni=True,
        variables={"x:my_var": "for-callback-test"},
    )


def test_presigned_url_carries_callback_and_vars_as_query_parameters():
    query = {"callback": headers()["x-oss-callback"], "callback-var": b64json({"x:a": "1"})}
    spec = parse_callback({}, query)
    assert spec is not None
    assert spec.urls == ("http://127.0.0.1:8080/cb",)
    assert dict(spec.variables) == {"x:a": "1"}


def test_callback_var_keys_without_x_prefix_are_skipped_as_on_oss():
    config = {"callbackUrl": "http://a.com", "callbackBody": "b=${bucket}"}
    spec = parse_callback(headers({**config, "A": 1, "x:b": "2"}, **config), {})
    assert spec is not None and dict(spec.variables) == {"x:b": "2"}


def test_ruby_sdk_serialisation_from_the_docs_is_accepted():
    value = (
        "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9hcHAuc2VydmVyLmNvbS9jYWxsYmFjaz9pZD0xJm5hbWU9JUU2JTlEJUFE"
        "JUU1JUI3JTlFIiwiY2FsbGJhY2tCb2R5IjoiaGVsbG8gd29ybGQiLCJjYWxsYmFja0JvZHlUeXBlIjoiYXBwbGlj"
        "YXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkIiwiY2FsbGJhY2tIb3N0Ijoic2VydmVyLmNvbSJ9"
    )
    spec = parse_callback({"x-oss-callback": value}, {})
    assert spec is not None
    assert spec.urls == ("http://app.server.com/callback?id=1&name=%E6%9D%AD%E5%B7%9E",)
    assert (spec.host, spec.body, spec.body_type, spec.sni) == (
        "server.com",
        "hello world",
        FORM_TYPE,
        False,
    )


def test_post_object_x_fields_are_variables_and_win_over_callback_var():
    query = {
        "callback": headers()["x-oss-callback"],
        "callback-var": b64json({"x:a": "1", "x:b": "2"}),
    }
    spec = parse_callback({}, query, form_variables={"x:b": "form", "x:c": "3"})
    assert dict(spec.variables) == {"x:a": "1", "x:b": "form", "x:c": "3"}
    error = rejected({}, query | {"callback-var": b64json({})}, form_variables={"x:c": "a\r\nb"})
    assert error.details["ArgumentName"] == "callback-var"


@pytest.mark.parametrize(
    ("request_headers", "query"),
    [
        ({}, {}),
        ({"x-oss-callback": ""}, {}),
        ({"x-oss-callback-var": b64json({"x:a": "1"})}, {}),
        ({"x-oss-callback": b64json({"callbackBody": "a=b"})}, {}),
        ({"x-oss-callback": b64json({"callbackUrl": "", "callbackBody": "a=b"})}, {}),
    ],
    ids=["nothing", "empty-header", "only-vars", "no-callbackUrl", "empty-callbackUrl"],
)
def test_upload_without_callback_url_has_no_callback(request_headers, query):
    assert parse_callback(request_headers, query) is None


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("121.43.113.8:23456/index.html", "http://121.43.113.8:23456/index.html"),
        ("www.abc.com/callback", "http://www.abc.com/callback"),
        ("HTTPS://example.com/cb", "https://example.com/cb"),
        ("http://[::1]:8080/cb", "http://[::1]:8080/cb"),
    ],
)
def test_callback_url_scheme_defaults_to_http(given, normalised):
    assert parse_callback(headers(callbackUrl=given), {}).urls == (normalised,)


def test_up_to_five_urls_are_tried_in_order():
    urls = [f"http://127.0.0.1:{port}/cb" for port in range(8001, 8006)]
    assert parse_callback(headers(callbackUrl=" ; ".join(urls)), {}).urls == tuple(urls)


def test_body_type_is_form_by_default_and_matched_case_insensitively():
    assert parse_callback(headers(), {}).body_type == FORM_TYPE
    assert parse_callback(headers(callbackBodyType="Application/JSON"), {}).body_type == JSON_TYPE


def test_strict_urls_accepts_public_addresses_and_leaves_names_to_delivery():
    for url in ("http://8.8.8.8/cb", "https://example.com/cb", "localhost:8080/cb"):
        assert parse_callback(headers(callbackUrl=url), {}, strict_urls=True) is not None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "[::1]",
        "[2001:db8::1]",
    ],
)
def test_strict_urls_rejects_private_loopback_and_link_local_addresses(host):
    url = f"http://{host}:8080/cb"
    assert parse_callback(headers(callbackUrl=url), {}) is not None
    error = rejected(headers(callbackUrl=url), strict_urls=True)
    assert error.details["ArgumentName"] == "callbackUrl"
    assert "OSS does not call back" in error.message


NOT_JSON = b64json(b"{not json")


@pytest.mark.parametrize(
    ("request_headers", "query", "message", "argument"),
    [
        (
            headers(),
            {"callback": headers()["x-oss-callback"]},
            "The callback is given both as header x-oss-callback and as query parameter callback",
            "callback",
        ),
        (
            headers({}),
            {"callback-var": b64json({})},
            "The callback-var is given both",
            "callback-var",
        ),
        ({"x-oss-callback": "A" * 5124}, {}, "at most 5120 (5 KB)", "callback"),
        (headers(callbackBody="x" * 4000), {}, "at most 5120 (5 KB)", "callback"),
        ({"x-oss-callback": "x123-*&"}, {}, "not valid base64", "callback"),
        (
            {
                "x-oss-callback": headers()["x-oss-callback"].replace("+", "-").replace("/", "_")
                + "-_"
            },
            {},
            "URL-safe base64",
            "callback",
        ),
        ({"x-oss-callback": "eyJhIjoxfQ"}, {}, "is the '=' padding missing?", "callback"),
        ({}, {"callback": "eyJh IjoxfQ=="}, "'+' was not percent-encoded as %2B", "callback"),
        (
            {"x-oss-callback": NOT_JSON},
            {},
            "The callback configuration is not json format.",
            "callback",
        ),
        (
            {"x-oss-callback": b64json(["callbackUrl"])},
            {},
            "The callback configuration is not json format.",
            "callback",
        ),
        (
            {"x-oss-callback": b64json(b'{"callbackUrl": "\xff"}')},
            {},
            "The callback configuration is not json format.",
            "callback",
        ),
        (
            {"x-oss-callback": b64json(b'{"callbackUrl": NaN}')},
            {},
            "The callback configuration is not json format.",
            "callback",
        ),
        (
            {"x-oss-callback": b64json(b"[" * 3000)},
            {},
            "The callback configuration is not json format.",
            "callback",
        ),
        (headers(callbackUrl=["http://a/"]), {}, "must be a string of 1-5 URLs", "callbackUrl"),
        (
            headers(callbackUrl=";".join(["http://a.com/"] * 6)),
            {},
            "has 6 URLs; at most 5",
            "callbackUrl",
        ),
        (
            headers(callbackUrl="http://a.com/;;http://b.com/"),
            {},
            "has an empty entry",
            "callbackUrl",
        ),
        (headers(callbackUrl="http://a.com/;"), {}, "has an empty entry", "callbackUrl"),
        (
            headers(callbackUrl="10.101.166.30:test"),
            {},
            "port must be an integer 1-65535",
            "callbackUrl",
        ),
        (headers(callbackUrl="http://a.com:0/cb"), {}, "port must be an integer", "callbackUrl"),
        (
            headers(callbackUrl="http://a.com:70000/cb"),
            {},
            "port must be an integer",
            "callbackUrl",
        ),
        (headers(callbackUrl="http://a.com:/cb"), {}, "port must be an integer", "callbackUrl"),
        (headers(callbackUrl="ftp://a.com/cb"), {}, "scheme must be http or https", "callbackUrl"),
        (headers(callbackUrl="http:///cb"), {}, "the host is missing", "callbackUrl"),
        (headers(callbackUrl="http://-bad-.com/cb"), {}, "not a valid domain name", "callbackUrl"),
        (headers(callbackUrl="http://999.1.1.1/cb"), {}, "not a valid domain name", "callbackUrl"),
        (headers(callbackUrl="http://[::1/cb"), {}, "host or port is malformed", "callbackUrl"),
        (
            headers(callbackUrl="http://user:secret@a.com/cb"),
            {},
            "credentials are not allowed",
            "callbackUrl",
        ),
        (headers(callbackUrl="http://a.com/回调"), {}, "must be percent-encoded", "callbackUrl"),
        (
            headers(callbackBody=None)
            | {"x-oss-callback": b64json({"callbackUrl": "http://a.com/"})},
            {},
            "The callbackBody is missing",
            "callbackBody",
        ),
        (headers(callbackBody=""), {}, "The callbackBody must not be empty.", "callbackBody"),
        (headers(callbackBody=42), {}, "The callbackBody must be a string.", "callbackBody"),
        (
            headers(callbackBody="a=${bucket"),
            {},
            "unterminated variable at character 2",
            "callbackBody",
        ),
        (headers(callbackBody="a=${}"), {}, "empty variable ${} at character 2", "callbackBody"),
        (headers(callbackBody="a=\ud800"), {}, "lone surrogate", "callbackBody"),
        (
            headers(callbackBodyType="text/plain"),
            {},
            "The callbackBodyType 'text/plain' is not",
            "callbackBodyType",
        ),
        (headers(callbackBodyType=""), {}, "is not supported", "callbackBodyType"),
        (headers(callbackSNI="true"), {}, "The callback sni is invalid", "callbackSNI"),
        (headers(callbackSNI=None), {}, "The callback sni is invalid", "callbackSNI"),
        (headers(callbackSNI=1), {}, "The callback sni is invalid", "callbackSNI"),
        (headers(callbackHost=["a.com"]), {}, "The callbackHost must be a string", "callbackHost"),
        (
            headers(callbackHost="a.com/path"),
            {},
            "domain name or IP address, optionally with :port",
            "callbackHost",
        ),
        (headers(callbackHost="a.com:http"), {}, "port must be an integer", "callbackHost"),
        (headers(callbackHost="evil@a.com"), {}, "domain name or IP address", "callbackHost"),
        (
            {"x-oss-callback-var": NOT_JSON} | headers(),
            {},
            "The callback var configuration is not json format.",
            "callback-var",
        ),
        (
            headers(["x:a"]),
            {},
            "The callback var configuration is not json format.",
            "callback-var",
        ),
        (headers({"x:": "1"}), {}, "must start with 'x:' followed by a name", "callback-var"),
        (
            headers({"x:Var": "1"}),
            {},
            "The callback-var key 'x:Var' must be lowercase.",
            "callback-var",
        ),
        (headers({"x:a}b": "1"}), {}, "so ${...} cannot name it", "callback-var"),
        (headers({"x:a": 1}), {}, "value of x:a must be a JSON string, not 1", "callback-var"),
        (headers({"x:a": None}), {}, "must be a JSON string, not null", "callback-var"),
        ({"x-oss-callback-var": "A" * 5200} | headers(), {}, "at most 5120", "callback-var"),
    ],
)
def test_invalid_callback_is_rejected_with_400_invalid_argument(
    request_headers, query, message, argument
):
    error = rejected(request_headers, query)
    assert message in error.message
    assert error.details["ArgumentName"] == argument


def test_not_json_error_shows_the_decoded_text_like_oss():
    error = rejected({"x-oss-callback": NOT_JSON})
    assert error.message == "The callback configuration is not json format."
    assert error.details == {"ArgumentName": "callback", "ArgumentValue": "{not json"}


@pytest.mark.parametrize(
    "request_headers",
    [
        headers(callbackHost="app.example.com\r\nX-Evil: 1"),
        headers(callbackHost="app.example.com\nX-Evil: 1"),
        headers(callbackHost="app.example.com\x00"),
        headers(callbackUrl="http://a.com/cb\r\nX-Evil: 1"),
        headers(callbackUrl="http://a.com/cb?q=1\rX-Evil:1"),
        headers(callbackUrl="http://a.com/cb HTTP/1.1\r\nX-Evil: 1"),
        headers(callbackUrl="http://a.com/cb\t"),
        headers({"x:v": "ok\r\nX-Evil: 1"}),
        headers({"x:v": "ok\x7f"}),
        headers({"x:v\r\nx-evil": "1"}),
    ],
)
def test_header_injection_attempts_are_rejected_before_upload(request_headers):
    error = rejected(request_headers)
    assert error.details["ArgumentName"] in ("callbackHost", "callbackUrl", "callback-var")


_FIELDS = [
    "callbackUrl",
    "callbackBody",
    "callbackBodyType",
    "callbackHost",
    "callbackSNI",
    "callbackVar",
    "additionalHeaders",
]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_configs = st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=8), _json_values, max_size=6)
_plausible = st.fixed_dictionaries(
    {
        "callbackUrl": st.sampled_from(
            ["http://127.0.0.1:8080/cb", "a.com;b.com:1/x?y=z", "[::1]:1"]
        )
        | st.text(max_size=30),
        "callbackBody": st.sampled_from(["a=${bucket}", "${x:a}${", "{}"]) | st.text(max_size=30),
    },
    optional={
        "callbackBodyType": st.sampled_from([FORM_TYPE, JSON_TYPE]) | _json_values,
        "callbackHost": st.sampled_from(["a.com", "1.2.3.4:80"]) | _json_values,
        "callbackSNI": _json_values,
    },
)
_variables = st.dictionaries(
    st.text(max_size=8).map(lambda s: "x:" + s) | st.text(max_size=8), _json_values, max_size=4
)
_values = (
    st.text(max_size=60)
    | st.binary(max_size=60).map(lambda b: b.decode("latin-1"))
    | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())
    | (_configs | _plausible).map(lambda c: base64.b64encode(json.dumps(c).encode()).decode())
    | _variables.map(lambda v: base64.b64encode(json.dumps(v).encode()).decode())
)
_names = st.sampled_from(["x-oss-callback", "x-oss-callback-var", "x-oss-meta-a"])
_params = st.sampled_from(["callback", "callback-var", "acl"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_names, _values), st.dictionaries(_params, _values), st.booleans())
def test_arbitrary_callback_headers_only_ever_raise_bad_request(request_headers, query, strict):
    try:
        spec = parse_callback(request_headers, query, strict_urls=strict)
    except BadRequest as error:
        assert error.code == "InvalidArgument"
        ET.fromstring(error.to_xml("REQUESTID", "bucket.localhost"))
    else:
        assert spec is None or isinstance(spec, CallbackSpec)
