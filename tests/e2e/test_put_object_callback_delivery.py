"""PutObject with a callback, at the HTTP level: what the app server receives.

Every system variable in the form and JSON bodies, image info, failover to the next URL,
``callbackHost``, the signature OSS puts on the callback, and presigned URLs.
"""

from __future__ import annotations

import base64
import hashlib
import io
from urllib.parse import unquote_to_bytes

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from PIL import Image

from ossemu.client import Callback, Client, crc64
from tests.e2e.callback_http import CONNECT_FAILED, put
from tests.support import b64json, md5_b64

FORM_VARIABLES = (
    "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}"
    "&crc64=${crc64}&contentMd5=${contentMd5}&vpcId=${vpcId}&clientIp=${clientIp}"
    "&reqId=${reqId}&operation=${operation}&imageInfo.height=${imageInfo.height}"
    "&imageInfo.width=${imageInfo.width}&imageInfo.format=${imageInfo.format}"
    "&var=${x:my_var}&undefined=${x:nope}"
)
JSON_VARIABLES = (
    '{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},'
    '"mimeType":${mimeType},"crc64":${crc64},"contentMd5":${contentMd5},"vpcId":${vpcId},'
    '"clientIp":${clientIp},"reqId":${reqId},"operation":${operation},'
    '"height":${imageInfo.height},"width":${imageInfo.width},"format":${imageInfo.format},'
    '"var":${x:my_var},"undefined":${x:nope}}'
)


def test_put_object_callback_form_body_has_every_system_variable_percent_encoded(
    oss_emulator, oss_bucket, callback_receiver
):
    key, data = "dir/hello world+é.txt", b"hello"
    config = {"callbackUrl": callback_receiver.url, "callbackBody": FORM_VARIABLES}
    headers = {
        "Content-Type": "text/plain",
        "x-oss-callback": b64json(config),
        "x-oss-callback-var": b64json({"x:my_var": "a b/c&d=é"}),
    }

    response = put(oss_emulator, oss_bucket.name, key, data, headers)

    assert response.status_code == 200, response.text
    assert response.content == b'{"Status":"OK"}'
    etag = response.headers["ETag"].strip('"')
    crc = response.headers["x-oss-hash-crc64ecma"]
    md5 = response.headers["Content-MD5"]
    assert (etag, crc, md5) == (
        hashlib.md5(data).hexdigest().upper(),
        str(crc64(data)),
        md5_b64(data),
    )
    [received] = callback_receiver.wait_for(1)
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert received.body.decode() == (
        f"bucket={oss_bucket.name}&object=dir%2Fhello%20world%2B%C3%A9.txt&etag={etag}&size=5"
        f"&mimeType=text%2Fplain&crc64={crc}"
        f"&contentMd5={md5.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}"
        f"&vpcId=&clientIp=127.0.0.1&reqId={response.headers['x-oss-request-id']}"
        "&operation=PutObject&imageInfo.height=&imageInfo.width=&imageInfo.format="
        "&var=a%20b%2Fc%26d%3D%C3%A9&undefined="
    )
    assert received.verified, received.rejected


def test_put_object_callback_json_body_has_strings_quoted_numbers_bare_and_empties_null(
    oss_emulator, oss_bucket, callback_receiver
):
    key, data = "notes/today.txt", b"json body please"
    config = {
        "callbackUrl": callback_receiver.url,
        "callbackBody": JSON_VARIABLES,
        "callbackBodyType": "application/json",
    }
    headers = {
        "Content-Type": "text/plain",
        "x-oss-callback": b64json(config),
        "x-oss-callback-var": b64json({"x:my_var": 'say "hi" \\ é'}),
    }

    response = put(oss_emulator, oss_bucket.name, key, data, headers)

    assert response.status_code == 200, response.text
    [received] = callback_receiver.wait_for(1)
    assert received.headers["content-type"] == "application/json"
    assert received.json == {
        "bucket": oss_bucket.name,
        "object": key,
        "etag": response.headers["ETag"].strip('"'),
        "size": len(data),
        "mimeType": "text/plain",
        "crc64": int(response.headers["x-oss-hash-crc64ecma"]),
        "contentMd5": response.headers["Content-MD5"],
        "vpcId": None,
        "clientIp": "127.0.0.1",
        "reqId": response.headers["x-oss-request-id"],
        "operation": "PutObject",
        "height": None,
        "width": None,
        "format": None,
        "var": 'say "hi" \\ é',
        "undefined": None,
    }
    crc = response.headers["x-oss-hash-crc64ecma"]
    assert f'"size":{len(data)},' in received.body.decode()
    assert f'"crc64":{crc},' in received.body.decode()
    assert received.verified, received.rejected


@pytest.mark.parametrize(
    ("body_type", "template"),
    [
        (
            "application/x-www-form-urlencoded",
            "h=${imageInfo.height}&w=${imageInfo.width}&f=${imageInfo.format}",
        ),
        (
            "application/json",
            '{"h":${imageInfo.height},"w":${imageInfo.width},"f":${imageInfo.format}}',
        ),
    ],
)
def test_put_object_callback_reports_image_info_of_a_png(
    oss_emulator, oss_bucket, callback_receiver, body_type, template
):
    png = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(png, "PNG")
    config = {
        "callbackUrl": callback_receiver.url,
        "callbackBody": template,
        "callbackBodyType": body_type,
    }
    headers = {"Content-Type": "image/png", "x-oss-callback": b64json(config)}

    response = put(oss_emulator, oss_bucket.name, "pics/dot.png", png.getvalue(), headers)

    assert response.status_code == 200, response.text
    [received] = callback_receiver.wait_for(1)
    if body_type == "application/json":
        assert received.json == {"h": 2, "w": 3, "f": "png"}
    else:
        assert received.body == b"h=2&w=3&f=png"


def test_put_object_callback_fails_over_to_the_next_url(
    oss_emulator, oss_bucket, callback_receiver, closed_port
):
    callback = Callback(url=[f"http://127.0.0.1:{closed_port}", callback_receiver.url])

    result = oss_bucket.put_object("failover.txt", b"data", callback=callback)

    assert result.status == 200 and result.callback_json() == {"Status": "OK"}
    assert len(callback_receiver.wait_for(1)) == 1
    [entry] = oss_emulator.callbacks(bucket=oss_bucket.name, key="failover.txt")
    assert [attempt["ok"] for attempt in entry["attempts"]] == [False, True]
    assert entry["attempts"][0]["message"] == CONNECT_FAILED


def test_put_object_callback_host_is_sent_as_the_host_header(oss_bucket, callback_receiver):
    callback = Callback(url=callback_receiver.url, host="app.example.com")

    oss_bucket.put_object("hosted.txt", b"data", callback=callback)

    [received] = callback_receiver.wait_for(1)
    assert received.headers["host"] == "app.example.com"
    assert received.verified, received.rejected


@pytest.mark.parametrize("config", [{"callbackUrl": ""}, {}], ids=["empty", "absent"])
def test_put_object_without_callback_url_is_a_plain_upload(
    oss_emulator, oss_bucket, callback_receiver, config
):
    headers = {"x-oss-callback": b64json({**config, "callbackBody": "bucket=${bucket}"})}

    response = put(oss_emulator, oss_bucket.name, "plain.txt", b"plain", headers)

    assert response.status_code == 200
    assert response.content == b""
    assert callback_receiver.log == []
    assert oss_emulator.callbacks(bucket=oss_bucket.name) == []
    assert oss_bucket.get_object("plain.txt") == b"plain"


def test_callback_signature_verifies_with_the_key_from_x_oss_pub_key_url(
    oss_emulator, oss_bucket, callback_receiver
):
    callback = Callback(
        url=callback_receiver.url + "/app/%E6%9D%AD%E5%B7%9E/cb",
        query={"id": "1", "name": "杭州 x"},
        body="object=${object}&size=${size}",
    )

    oss_bucket.put_object("signed/obj.txt", b"sign me", callback=callback)

    [received] = callback_receiver.wait_for(1)
    key_url = base64.b64decode(received.headers["x-oss-pub-key-url"]).decode()
    assert key_url == f"{oss_emulator.url}/_ossemu/callback-public-key.pem"
    public_key = load_pem_public_key(requests.get(key_url, timeout=10).content)
    assert received.path == "/app/%E6%9D%AD%E5%B7%9E/cb"
    path, _, query = received.wire_target.partition("?")  # what OSS signed
    assert query == "id=1&name=%E6%9D%AD%E5%B7%9E%20x"
    signed = unquote_to_bytes(path) + b"?" + query.encode() + b"\n" + received.body
    signature = base64.b64decode(received.headers["authorization"])
    public_key.verify(signature, signed, padding.PKCS1v15(), hashes.MD5())  # raises if invalid
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, signed + b"tampered", padding.PKCS1v15(), hashes.MD5())


@pytest.mark.parametrize("version", ["v4", "v1"])
def test_presigned_put_url_with_callback_fires_and_returns_the_app_json(
    oss_emulator, oss_bucket, callback_receiver, version
):
    callback_receiver.respond_with(body=b'{"from":"app"}')
    callback = Callback(url=callback_receiver.url, body="object=${object}&v=${x:v}")
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        signature_version=version,
    ) as client:
        url = client.get_bucket(oss_bucket.name).sign_url(
            "PUT", "presigned.txt", callback=callback, callback_vars={"v": "42"}
        )

    response = requests.put(url, data=b"no credentials here", timeout=30)

    assert response.status_code == 200, response.text
    assert response.content == b'{"from":"app"}'
    [received] = callback_receiver.wait_for(1)
    assert received.body == b"object=presigned.txt&v=42"
    assert received.verified, received.rejected
    assert oss_bucket.get_object("presigned.txt") == b"no credentials here"
