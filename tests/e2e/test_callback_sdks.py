"""Upload callbacks through the official Python SDKs, signing with V1 and with V4.

Neither SDK builds the callback: the caller base64-encodes the JSON and the SDK carries it as
``x-oss-callback``/``x-oss-callback-var`` (or, for oss2 signed URLs, as query parameters). A 203
is a 2xx to both, so neither raises: the caller looks at the status and the body.
"""

from __future__ import annotations

import json
import uuid
from xml.etree import ElementTree

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from ossemu.client import crc64
from tests.support import b64json

APP_REPLY = b'{"Status":"OK","via":"official sdk"}'


def callback_pair(receiver_url: str) -> tuple[str, str]:
    """(callback, callback-var) values as the SDKs' own examples build them."""
    callback = b64json(
        {
            "callbackUrl": receiver_url,
            "callbackBody": "bucket=${bucket}&object=${object}&size=${size}&who=${x:who}",
            "callbackBodyType": "application/x-www-form-urlencoded",
        }
    )
    return callback, b64json({"x:who": "sdk user"})


def failed_message(xml_text: str | bytes) -> tuple[str, str]:
    root = ElementTree.fromstring(xml_text)
    return root.findtext("Code") or "", root.findtext("Message") or ""


@pytest.fixture(params=["v1", "v4"])
def oss2_bucket(request, oss_emulator):
    auth_class = oss2.Auth if request.param == "v1" else oss2.AuthV4
    auth = auth_class(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    name = f"oss2-cb-{uuid.uuid4().hex[:12]}"
    bucket = oss2.Bucket(auth, oss_emulator.url, name, region=oss_emulator.config.region)
    bucket.create_bucket()
    yield bucket
    oss_emulator.services.storage.drop_bucket(name)


@pytest.fixture(params=["v1", "v4"])
def v2_bucket(request, oss_emulator):
    """An alibabacloud-oss-v2 client and a fresh bucket name."""
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region = oss_emulator.config.region
    cfg.endpoint = oss_emulator.url
    cfg.signature_version = request.param
    client = oss.Client(cfg)
    name = f"v2-cb-{uuid.uuid4().hex[:12]}"
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    oss_emulator.services.storage.drop_bucket(name)


def test_oss2_put_object_callback_returns_the_app_json(oss2_bucket, callback_receiver):
    callback_receiver.respond_with(body=APP_REPLY)
    callback, variables = callback_pair(callback_receiver.url)
    data = b"uploaded with oss2"

    result = oss2_bucket.put_object(
        "oss2/cb.txt", data, headers={"x-oss-callback": callback, "x-oss-callback-var": variables}
    )

    assert result.status == 200
    assert result.resp.read() == APP_REPLY
    assert result.crc == crc64(data)  # oss2 compared it with its own CRC and did not raise
    [received] = callback_receiver.wait_for(1)
    assert received.form == {
        "bucket": oss2_bucket.bucket_name,
        "object": "oss2/cb.txt",
        "size": str(len(data)),
        "who": "sdk user",
    }
    assert received.verified, received.rejected


def test_oss2_put_object_callback_failure_is_status_203_with_the_error_xml(
    oss2_bucket, callback_receiver
):
    callback_receiver.respond_with(status=500)
    callback, variables = callback_pair(callback_receiver.url)
    data = b"stored, but the app server failed"

    result = oss2_bucket.put_object(
        "oss2/cb.txt", data, headers={"x-oss-callback": callback, "x-oss-callback-var": variables}
    )

    assert result.status == 203
    assert failed_message(result.resp.read()) == ("CallbackFailed", "Error status : 500.")
    assert result.crc == crc64(data)
    assert oss2_bucket.get_object("oss2/cb.txt").read() == data


def test_oss2_signed_url_carries_the_callback_as_query_parameters(oss2_bucket, callback_receiver):
    callback_receiver.respond_with(body=APP_REPLY)
    callback, variables = callback_pair(callback_receiver.url)
    url = oss2_bucket.sign_url(
        "PUT", "oss2/signed.txt", 60, params={"callback": callback, "callback-var": variables}
    )

    response = requests.put(url, data=b"via a signed url", timeout=30)

    assert response.status_code == 200, response.text
    assert response.content == APP_REPLY
    [received] = callback_receiver.wait_for(1)
    assert received.form is not None and received.form["who"] == "sdk user"
    assert received.verified, received.rejected
    assert oss2_bucket.get_object("oss2/signed.txt").read() == b"via a signed url"


def test_v2_put_object_callback_returns_the_app_json(v2_bucket, callback_receiver):
    client, name = v2_bucket
    callback_receiver.respond_with(body=APP_REPLY)
    callback, variables = callback_pair(callback_receiver.url)
    data = b"uploaded with alibabacloud-oss-v2"

    result = client.put_object(
        oss.PutObjectRequest(
            bucket=name, key="v2/cb.txt", body=data, callback=callback, callback_var=variables
        )
    )

    assert result.status_code == 200
    assert json.loads(result.callback_result) == json.loads(APP_REPLY)
    assert result.hash_crc64 == str(crc64(data))  # the SDK's own CRC check passed too
    [received] = callback_receiver.wait_for(1)
    assert received.form == {
        "bucket": name,
        "object": "v2/cb.txt",
        "size": str(len(data)),
        "who": "sdk user",
    }
    assert received.verified, received.rejected


def test_v2_put_object_callback_failure_is_status_203_with_the_error_xml(
    v2_bucket, callback_receiver
):
    client, name = v2_bucket
    callback_receiver.respond_with(status=500)
    callback, variables = callback_pair(callback_receiver.url)
    data = b"stored, but the app server failed"

    result = client.put_object(
        oss.PutObjectRequest(
            bucket=name, key="v2/cb.txt", body=data, callback=callback, callback_var=variables
        )
    )

    assert result.status_code == 203
    assert failed_message(result.callback_result) == ("CallbackFailed", "Error status : 500.")
    assert result.hash_crc64 == str(crc64(data))
    stored = client.get_object(oss.GetObjectRequest(bucket=name, key="v2/cb.txt"))
    assert stored.body.read() == data
