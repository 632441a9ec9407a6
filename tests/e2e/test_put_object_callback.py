"""PutObject with a callback, at the HTTP level: what the app server gets, what the uploader gets.

Requests are built by hand (``x-oss-callback`` headers, query parameters) and signed with our
SDK's signer, so each test shows the exact bytes a user of any SDK would send and receive.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote_to_bytes
from xml.etree import ElementTree

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from PIL import Image

from client import Callback, Client, crc64
from client.auth import Credentials, OssAuth, Signer
from emulator.config import EmulatorConfig
from emulator.receiver import CallbackReceiver
from emulator.server import EmulatorServer

CONNECT_FAILED = "Error status : -1.OSS can not connect to your callbackUrl, please check it."
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


def b64json(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def put(
    emulator: EmulatorServer,
    bucket: str,
    key: str,
    data: bytes,
    headers: dict[str, str],
    params: dict[str, str] | None = None,
) -> requests.Response:
    """A signed PutObject carrying exactly ``headers`` (and ``params``) and nothing else."""
    credentials = Credentials(emulator.access_key_id, emulator.access_key_secret)
    signer = Signer(credentials, "v4", emulator.config.region)
    return requests.put(
        f"{emulator.url}/{bucket}/{quote(key, safe='/')}",
        data=data,
        headers=headers,
        params=params,
        auth=OssAuth(signer, bucket, key),
        timeout=30,
    )


def error_fields(response: requests.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(response.content)}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def tmp_files(oss_emulator):
    """The emulator's temp files now; call it again to see what a request left behind."""
    tmp = oss_emulator.config.data_dir / "tmp"
    before = set(tmp.iterdir())
    return lambda: set(tmp.iterdir()) - before


# --- what the app server receives -------------------------------------------------------------


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
    path, _, query = received.target.partition("?")
    assert path == "/app/%E6%9D%AD%E5%B7%9E/cb"
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


# --- 203 CallbackFailed: stored, but the app server's answer was not acceptable ---------------


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


# --- 400 InvalidArgument: the callback is checked before anything is stored --------------------


SIX_URLS = ";".join(["http://127.0.0.1:1"] * 6)
CRLF_HOST = "app.example.com\r\nX-Injected: 1"
# id -> (x-oss-callback: raw text, or changes to a valid config (None drops a field);
#        raw x-oss-callback-var or None; Message; ArgumentName; ArgumentValue or None)
BAD_CALLBACKS: dict[str, tuple[str | dict[str, Any], str | None, str, str, str | None]] = {
    "not-base64": (
        "x123-*&",
        None,
        "The callback is not valid base64: OSS expects the standard alphabet with = padding. "
        "URL-safe base64 ('-', '_') is not accepted.",
        "callback",
        "x123-*&",
    ),
    "not-json": (
        b64("{callbackUrl: nope"),
        None,
        "The callback configuration is not json format.",
        "callback",
        "{callbackUrl: nope",
    ),
    "no-callback-body": (
        {"callbackBody": None},
        None,
        "The callbackBody is missing: it is the template of the body OSS posts to callbackUrl.",
        "callbackBody",
        None,
    ),
    "empty-callback-body": (
        {"callbackBody": ""},
        None,
        "The callbackBody must not be empty.",
        "callbackBody",
        "",
    ),
    "bad-body-type": (
        {"callbackBodyType": "text/plain"},
        None,
        "The callbackBodyType 'text/plain' is not supported: use "
        "application/x-www-form-urlencoded or application/json.",
        "callbackBodyType",
        "text/plain",
    ),
    "six-urls": (
        {"callbackUrl": SIX_URLS},
        None,
        "The callbackUrl has 6 URLs; at most 5 are allowed.",
        "callbackUrl",
        SIX_URLS,
    ),
    "bad-port": (
        {"callbackUrl": "127.0.0.1:test"},
        None,
        "The callbackUrl '127.0.0.1:test' is invalid: the host or port is malformed; "
        "the port must be an integer 1-65535.",
        "callbackUrl",
        "127.0.0.1:test",
    ),
    "sni-not-boolean": (
        {"callbackSNI": "true"},
        None,
        "The callback sni is invalid",
        "callbackSNI",
        '"true"',
    ),
    "callback-var-not-json": (
        {},
        b64("x:a=1"),
        "The callback var configuration is not json format.",
        "callback-var",
        "x:a=1",
    ),
    "upper-case-var": (
        {},
        b64json({"x:MyVar": "1"}),
        "The callback-var key 'x:MyVar' must be lowercase.",
        "callback-var",
        "x:MyVar",
    ),
    "crlf-in-callback-host": (
        {"callbackHost": CRLF_HOST},
        None,
        f"The callbackHost {CRLF_HOST!r} is invalid: it contains a space, control or "
        "non-ASCII character.",
        "callbackHost",
        None,  # an XML parser reads the CR LF back as LF; the Message shows it escaped
    ),
}


def bad_callback_headers(case: str, receiver_url: str) -> dict[str, str]:
    callback, variables, *_ = BAD_CALLBACKS[case]
    if not isinstance(callback, str):
        config = {"callbackUrl": receiver_url, "callbackBody": "bucket=${bucket}", **callback}
        callback = b64json({name: value for name, value in config.items() if value is not None})
    headers = {"x-oss-callback": callback}
    if variables is not None:
        headers["x-oss-callback-var"] = variables
    return headers


def _assert_nothing_stored(bucket, receiver: CallbackReceiver, new_tmp_files: set) -> None:
    assert not bucket.object_exists("never.txt")
    assert new_tmp_files == set()
    assert receiver.log == []


@pytest.mark.parametrize("case", BAD_CALLBACKS)
def test_put_object_with_invalid_callback_is_400_and_stores_nothing(
    oss_emulator, oss_bucket, callback_receiver, tmp_files, case
):
    headers = bad_callback_headers(case, callback_receiver.url)
    *_, message, name, value = BAD_CALLBACKS[case]

    response = put(oss_emulator, oss_bucket.name, "never.txt", b"never stored", headers)

    assert response.status_code == 400, response.text
    fields = error_fields(response)
    assert (fields["Code"], fields["Message"]) == ("InvalidArgument", message)
    assert fields["ArgumentName"] == name
    if value is not None:
        assert fields["ArgumentValue"] == value
    _assert_nothing_stored(oss_bucket, callback_receiver, tmp_files())


def test_put_object_with_callback_in_header_and_query_is_400_and_stores_nothing(
    oss_emulator, oss_bucket, callback_receiver, tmp_files
):
    callback = Callback(url=callback_receiver.url).serialize()

    response = put(
        oss_emulator,
        oss_bucket.name,
        "never.txt",
        b"never stored",
        {"x-oss-callback": callback},
        {"callback": callback},
    )

    assert response.status_code == 400, response.text
    fields = error_fields(response)
    assert (fields["Code"], fields["ArgumentName"]) == ("InvalidArgument", "callback")
    assert fields["Message"] == (
        "The callback is given both as header x-oss-callback and as query parameter callback; "
        "send it in one place only."
    )
    _assert_nothing_stored(oss_bucket, callback_receiver, tmp_files())


# Real OSS names each of these failures with its own EC (help/en/oss/support/0007-0000000N).
ERROR_CENTER_EC = {
    "not-base64": "0007-00000002",
    "bad-port": "0007-00000004",
    "six-urls": "0007-00000005",
    "empty-callback-body": "0007-00000011",
}


@pytest.mark.parametrize(("case", "ec"), ERROR_CENTER_EC.items())
def test_invalid_callback_carries_the_oss_error_center_ec(
    oss_emulator, oss_bucket, callback_receiver, case, ec
):
    headers = bad_callback_headers(case, callback_receiver.url)

    response = put(oss_emulator, oss_bucket.name, "never.txt", b"never stored", headers)

    assert response.status_code == 400
    assert (error_fields(response)["EC"], response.headers["x-oss-ec"]) == (ec, ec)
