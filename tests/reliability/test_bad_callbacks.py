"""Bad callbacks from hypothesis: callback parsing and template substitution, end to end.

Any ``x-oss-callback`` header is refused with InvalidArgument before anything is stored, or the
object is stored and the callback delivered; template values reach the app server exactly as
uploaded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ossemu.emulator.receiver import CallbackReceiver
from tests.reliability.helpers import BUCKET, EXAMPLES, key_text
from tests.support import b64json


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as receiver:
        yield receiver


_var_values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@EXAMPLES
@given(key=key_text, value=_var_values, form=st.booleans())
def test_template_values_arrive_exactly_as_uploaded(emulator, receiver, key, value, form):
    receiver.clear()
    if form:
        body, body_type = "k=${object}&v=${x:v}&s=${size}", "application/x-www-form-urlencoded"
    else:
        body, body_type = '{"k":${object},"v":${x:v},"s":${size}}', "application/json"
    headers = {
        "x-oss-callback": b64json(
            {"callbackUrl": receiver.url, "callbackBody": body, "callbackBodyType": body_type}
        ),
        "x-oss-callback-var": b64json({"x:v": value}),
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
        "x-oss-callback": raw if use_raw else b64json(config),
        "x-oss-callback-var": b64json(variables),
    }
    key = f"cbp/{hashlib.md5(repr((config, variables, raw, use_raw)).encode()).hexdigest()}"
    response = emulator.request("PUT", BUCKET, key, headers=headers, body=b"x")
    if response.status == 400:
        assert response.code == "InvalidArgument", response.body[:300]
        assert emulator.request("GET", BUCKET, key).status == 404, "stored despite a bad callback"
    else:
        assert response.status in (200, 203), response.body[:300]
        assert emulator.request("GET", BUCKET, key).body == b"x"
