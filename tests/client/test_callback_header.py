"""Callback serialisation (x-oss-callback / x-oss-callback-var) and client-side validation."""

from __future__ import annotations

import base64
import json

import pytest

from ossemu.client import Callback, ClientError, encode_callback_vars
from ossemu.client.callback import callback_headers

# oss-protocol.md 1.2: the Ruby SDK's spec vector for the same fields.
RUBY_VECTOR = (
    "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9hcHAuc2VydmVyLmNvbS9jYWxsYmFjaz9pZD0xJm5hbWU9JUU2JTlEJUFEJUU1"
    "JUI3JTlFIiwiY2FsbGJhY2tCb2R5IjoiaGVsbG8gd29ybGQiLCJjYWxsYmFja0JvZHlUeXBlIjoiYXBwbGljYXRpb24v"
    "eC13d3ctZm9ybS11cmxlbmNvZGVkIiwiY2FsbGJhY2tIb3N0Ijoic2VydmVyLmNvbSJ9"
)


def decode(value: str) -> dict:
    return json.loads(base64.b64decode(value, validate=True))


def test_serialisation_matches_the_ruby_sdk_vector():
    callback = Callback(
        url="http://app.server.com/callback",
        query={"id": 1, "name": "杭州"},
        body="hello world",
        host="server.com",
    )
    assert callback.serialize() == RUBY_VECTOR


def test_json_keys_keep_ruby_order_and_base64_is_strict():
    value = Callback(url="http://h/cb", host="h", sni=True).serialize()
    assert "\n" not in value
    assert list(decode(value)) == [
        "callbackUrl",
        "callbackBody",
        "callbackBodyType",
        "callbackHost",
        "callbackSNI",
    ]
    assert decode(value)["callbackSNI"] is True


def test_defaults_give_the_seed_body_and_form_type():
    payload = decode(
        Callback(url="http://127.0.0.1:23450", query={"user": "put_object"}).serialize()
    )
    assert payload == {
        "callbackUrl": "http://127.0.0.1:23450?user=put_object",
        "callbackBody": "bucket=${bucket}&object=${object}",
        "callbackBodyType": "application/x-www-form-urlencoded",
    }


def test_url_with_a_query_string_is_refused():
    with pytest.raises(ClientError, match="Query parameters should not appear in URL"):
        Callback(url="http://app.example.com/cb?id=1")


@pytest.mark.parametrize("url", ["ftp://example.com/cb", "file:///etc/passwd"])
def test_only_http_and_https_are_accepted(url):
    with pytest.raises(ClientError, match="Only HTTP and HTTPS"):
        Callback(url=url)


def test_client_errors_are_value_errors():
    with pytest.raises(ValueError):
        Callback(url="")


def test_no_stray_question_mark_without_query():
    assert Callback(url="http://h:8080/cb").callback_url == "http://h:8080/cb"
    assert Callback(url="http://h:8080/cb", query={}).callback_url == "http://h:8080/cb"


def test_missing_scheme_defaults_to_http():
    assert (
        Callback(url="10.0.0.1:23456/index.html").callback_url == "http://10.0.0.1:23456/index.html"
    )


def test_query_uses_percent_20_for_spaces_and_encodes_reserved_characters():
    callback = Callback(url="https://h/cb", query={"who am i": "a+b&c=d/e"})
    assert callback.callback_url == "https://h/cb?who%20am%20i=a%2Bb%26c%3Dd%2Fe"


def test_up_to_five_urls_as_a_list_or_semicolon_string():
    urls = [f"http://h{i}/cb" for i in range(5)]
    as_list = Callback(url=urls, query={"q": "1"})
    as_text = Callback(url=";".join(urls), query={"q": "1"})
    assert as_list.callback_url == as_text.callback_url
    assert as_list.callback_url.split(";") == [f"{u}?q=1" for u in urls]
    with pytest.raises(ClientError, match="At most 5"):
        Callback(url=[*urls, "http://h5/cb"])


def test_json_helper_builds_an_unquoted_template():
    callback = Callback.json(
        "http://h/cb", {"bucket": "bucket", "size": "${size}", "v": "x:my_var"}
    )
    assert callback.content_type == "application/json"
    assert callback.body == '{"bucket":${bucket},"size":${size},"v":${x:my_var}}'


@pytest.mark.parametrize(
    "bad",
    [
        {"content_type": "text/plain"},
        {"body": ""},
        {"sni": "true"},
    ],
)
def test_invalid_fields_are_refused(bad):
    with pytest.raises(ClientError):
        Callback(url="http://h/cb", **bad)


def test_callback_vars_get_the_prefix_and_string_values():
    encoded = encode_callback_vars({"a": 1, "x:b": "two", "flag": True})
    assert decode(encoded) == {"x:a": "1", "x:b": "two", "x:flag": "true"}


@pytest.mark.parametrize("name", ["MyVar", "x:Upper", ""])
def test_callback_vars_must_be_lower_case(name):
    with pytest.raises(ClientError):
        encode_callback_vars({name: "v"})


def test_headers_carry_both_values():
    headers = Callback(url="http://h/cb").to_headers({"uid": 7})
    assert set(headers) == {"x-oss-callback", "x-oss-callback-var"}
    assert decode(headers["x-oss-callback-var"]) == {"x:uid": "7"}


def test_signed_url_params_use_the_query_names():
    params = dict(Callback(url="http://h/cb").to_params({"uid": 7}))
    assert set(params) == {"callback", "callback-var"}


def test_variables_without_a_callback_are_a_mistake():
    assert callback_headers(None, None) == {}
    with pytest.raises(ClientError, match="need a callback"):
        callback_headers(None, {"a": "1"})


def test_oversized_callback_is_refused_before_sending():
    with pytest.raises(ClientError, match="5 KB"):
        Callback(url="http://h/cb", body="x" * 6000).serialize()
