"""The Ruby "upload callback" page (seed), written as a Python user would write it.

``put_object('files/hello', file: '/tmp/x', callback: Callback(url, query: {user: 'put_object'},
body: 'bucket=${bucket}&object=${object}'))``, then ``rescue CallbackError => e`` when the app
server fails. Everything goes through a real emulator socket to a real app server.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from ossemu.client import Callback, CallbackError, Client, crc64

APP_REPLY = {"Status": "OK", "stored": "files/hello"}


@pytest.fixture(params=["v4", "v1"])
def seed_bucket(request, oss_emulator, oss_bucket):
    """The test's fresh bucket, seen through a client signing with V4 or V1."""
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        signature_version=request.param,
    ) as client:
        yield client.get_bucket(oss_bucket.name)


@pytest.fixture
def seed_callback(callback_receiver) -> Callback:
    return Callback(
        url=callback_receiver.url,
        query={"user": "put_object"},
        body="bucket=${bucket}&object=${object}",
    )


def test_seed_put_object_with_callback_reaches_the_app_server(
    seed_bucket, seed_callback, callback_receiver, tmp_path
):
    source = tmp_path / "x"
    source.write_bytes(b"hello from the seed\n")
    callback_receiver.respond_with(body=json.dumps(APP_REPLY).encode())

    result = seed_bucket.put_object("files/hello", file=source, callback=seed_callback)

    [received] = callback_receiver.wait_for(1)
    assert received.method == "POST"
    assert received.target == "/?user=put_object"
    assert received.body == f"bucket={seed_bucket.name}&object=files%2Fhello".encode()
    assert received.verified, received.rejected
    assert result.status == 200
    assert result.callback_json() == APP_REPLY
    assert result.etag == hashlib.md5(source.read_bytes()).hexdigest().upper()
    assert seed_bucket.get_object("files/hello") == source.read_bytes()


def test_seed_failed_callback_raises_callback_error_and_the_file_is_stored(
    seed_bucket, seed_callback, callback_receiver, tmp_path
):
    source = tmp_path / "x"
    source.write_bytes(b"stored even though the app server failed\n")
    callback_receiver.respond_with(status=500, body=b'{"Status":"Error"}')

    with pytest.raises(CallbackError) as caught:
        seed_bucket.put_object("files/hello", file=source, callback=seed_callback)

    error = caught.value
    assert "Error status : 500." in str(error)
    assert error.message == "Error status : 500."
    assert (error.status, error.code, error.ec) == (203, "CallbackFailed", "0007-00000203")
    assert error.etag == hashlib.md5(source.read_bytes()).hexdigest().upper()
    assert error.crc64 == crc64(source.read_bytes())
    [received] = callback_receiver.wait_for(1)
    assert received.verified and received.target == "/?user=put_object"
    assert seed_bucket.get_object("files/hello") == source.read_bytes()
    assert seed_bucket.head_object("files/hello").etag == error.etag
