"""Requests the official SDKs' own suites send that OSS takes: a presigned callback with plain
callback-var keys, keys with control characters, wrong keys against missing buckets."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.sdk_clients import oss2_bucket_on, v2_bucket_on
from tests.support import b64json


@pytest.fixture
def bucket(oss_emulator):
    with oss2_bucket_on(oss_emulator) as b:
        yield b


@pytest.fixture
def v2(oss_emulator):
    with v2_bucket_on(oss_emulator) as pair:
        yield pair


def test_presigned_put_whose_callback_var_has_no_x_keys_still_calls_back(bucket, closed_port):
    # oss2's own test sends the callback document as callback-var too; OSS answers 203.
    callback = {"callbackUrl": f"http://127.0.0.1:{closed_port}", "callbackBody": "o=${object}"}
    params = {"callback": b64json(callback), "callback-var": b64json(callback)}
    url = bucket.sign_url("PUT", "cb.txt", 60, params=params)
    answer = requests.put(url, data=b"x")
    assert answer.status_code == 203 and b"<Code>CallbackFailed</Code>" in answer.content
    assert bucket.get_object("cb.txt").read() == b"x"
