"""PutObject with a callback, at the HTTP level: 203 CallbackFailed for an unacceptable answer.

The object is stored all the same; the error document names why, in OSS's words, for each way
the app server can fail: a bad status or body, a redirect, a closed port, a timeout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
import requests

from ossemu.client import Callback, Client, crc64
from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.receiver import CallbackReceiver
from ossemu.emulator.server import EmulatorServer
from tests.e2e.callback_http import CONNECT_FAILED, error_fields, put


def _assert_callback_failed(response: requests.Response, data: bytes, message: str) -> None:
    assert response.status_code == 203, response.text
    assert response.headers["Content-Type"] == "application/xml"
    fields = error_fields(response)
    assert fields["Code"] == "CallbackFailed"
    assert fields["Message"] == message
    assert fields["EC"] == "0007-00000203"
    assert fields["RequestId"] == response.headers["x-oss-request-id"]
    assert response.headers["x-oss-ec"] == "0007-00000203"
    assert response.headers["ETag"] == f'"{hashlib.md5(data).hexdigest().upper()}"'
    assert response.headers["x-oss-hash-crc64ecma"] == str(crc64(data))


THREE_MB = 3 * 1024 * 1024

APP_ANSWERS = {
    "500": ({"status": 500}, "Error status : 500."),
    "400": ({"status": 400, "body": b'{"Status":"bad"}'}, "Error status : 400."),
    "not-json": (
        {"body": b"OK", "content_type": "text/plain"},
        "Response body is not valid json format.",
    ),
    "bom-json": (
        {"body": b'\xef\xbb\xbf{"Status":"OK"}'},
        "Response body is not valid json format.",
    ),
    "no-content-length": (
        {"content_length": False},
        "Error Status : 400.User server missing content-length.",
    ),
    "invalid-content-length": (
        {"content_length": "12abc"},
        "Error Status : 400.User server return invalid conent-length value.",
    ),
    "body-over-3mb": (
        {"body": b'"' + b"x" * (THREE_MB - 1) + b'"'},
        "Error Status : 400.User server return too long content-length value.",
    ),
}


@pytest.mark.parametrize("answer", APP_ANSWERS.values(), ids=APP_ANSWERS.keys())
def test_put_object_callback_203_for_each_unacceptable_answer(
    oss_emulator, oss_bucket, callback_receiver, answer
):
    reply, message = answer
    callback_receiver.respond_with(**reply)
    data = f"stored despite: {message}".encode()
    headers = {"x-oss-callback": Callback(url=callback_receiver.url).serialize()}

    response = put(oss_emulator, oss_bucket.name, "cb/fail.txt", data, headers)

    _assert_callback_failed(response, data, message)
    assert len(callback_receiver.wait_for(1)) == 1
    assert oss_bucket.get_object("cb/fail.txt") == data


def test_put_object_callback_json_of_exactly_three_megabytes_is_relayed(
    oss_emulator, oss_bucket, callback_receiver
):
    big = b'"' + b"x" * (THREE_MB - 2) + b'"'
    callback_receiver.respond_with(body=big)
    headers = {"x-oss-callback": Callback(url=callback_receiver.url).serialize()}

    response = put(oss_emulator, oss_bucket.name, "cb/big-answer.txt", b"data", headers)

    assert response.status_code == 200
    assert response.content == big


def test_put_object_callback_redirect_is_not_followed(oss_emulator, oss_bucket, callback_receiver):
    with CallbackReceiver() as elsewhere:
        callback_receiver.respond_with(302, b"", headers={"Location": elsewhere.url})
        headers = {"x-oss-callback": Callback(url=callback_receiver.url).serialize()}

        response = put(oss_emulator, oss_bucket.name, "cb/redirect.txt", b"moved", headers)

        _assert_callback_failed(response, b"moved", "Error status : 302.")
        assert elsewhere.log == []
    assert oss_bucket.get_object("cb/redirect.txt") == b"moved"


def test_put_object_callback_to_a_closed_port_is_203_cannot_connect(
    oss_emulator, oss_bucket, closed_port
):
    headers = {"x-oss-callback": Callback(url=f"http://127.0.0.1:{closed_port}").serialize()}

    response = put(oss_emulator, oss_bucket.name, "cb/refused.txt", b"refused", headers)

    _assert_callback_failed(response, b"refused", CONNECT_FAILED)
    assert oss_bucket.get_object("cb/refused.txt") == b"refused"


@pytest.fixture
def impatient_emulator(tmp_path) -> Iterator[EmulatorServer]:
    """A second emulator that waits only half a second for each callback URL."""
    config = EmulatorConfig(data_dir=tmp_path / "impatient", port=0, callback_timeout=0.5)
    with EmulatorServer(config) as server:
        yield server


def test_put_object_callback_to_a_slow_app_server_times_out(impatient_emulator, callback_receiver):
    callback_receiver.respond_with(delay=30)
    with Client(
        impatient_emulator.url,
        impatient_emulator.access_key_id,
        impatient_emulator.access_key_secret,
    ) as client:
        bucket = client.create_bucket("slow-app-server")
        headers = {"x-oss-callback": Callback(url=callback_receiver.url).serialize()}

        response = put(impatient_emulator, bucket.name, "slow.txt", b"patience", headers)

        port = callback_receiver.port
        _assert_callback_failed(
            response,
            b"patience",
            f"Error status : -1 127.0.0.1:{port} reply timeout, cost:500ms, "
            "timeout:500ms (err -4, errno115)",
        )
        assert bucket.get_object("slow.txt") == b"patience"
