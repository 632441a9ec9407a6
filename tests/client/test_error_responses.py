"""ServerError.from_response: canned OSS error documents become the right exception."""

from __future__ import annotations

import base64

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ossemu.client import (
    AccessDenied,
    CallbackError,
    ClientError,
    InconsistentError,
    NoSuchBucket,
    NoSuchKey,
    OssError,
    RequestError,
    ServerError,
    SignatureDoesNotMatch,
)

NO_SUCH_KEY = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The specified key does not exist.</Message>
  <RequestId>6557176CD11E5535303C0000</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Key>walker-not-.txt</Key>
  <EC>0026-00000001</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001</RecommendDoc>
</Error>
"""

CALLBACK_FAILED = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>CallbackFailed</Code>
  <Message>Error status : 500.</Message>
  <RequestId>587C8D382AE0B92FA3EEF62C</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0007-00000203</EC>
</Error>
"""


def response(status: int, body: bytes = b"", **headers: str) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.headers = CaseInsensitiveDict({k.replace("_", "-"): v for k, v in headers.items()})
    return resp


def test_no_such_key_document_becomes_no_such_key():
    error = ServerError.from_response(response(404, NO_SUCH_KEY, Content_Type="application/xml"))
    assert type(error) is NoSuchKey
    assert (error.status, error.code) == (404, "NoSuchKey")
    assert error.message == "The specified key does not exist."
    assert error.request_id == "6557176CD11E5535303C0000"
    assert error.host_id == "bucket.oss-cn-hangzhou.aliyuncs.com"
    assert error.ec == "0026-00000001"
    assert error.details["Key"] == "walker-not-.txt"
    assert error.body == NO_SUCH_KEY


def test_head_error_is_decoded_from_x_oss_err():
    encoded = base64.b64encode(NO_SUCH_KEY.replace(b"NoSuchKey", b"NoSuchBucket")).decode()
    error = ServerError.from_response(response(404, x_oss_err=encoded, x_oss_request_id="R"))
    assert isinstance(error, NoSuchBucket)
    assert error.request_id == "6557176CD11E5535303C0000"


def test_head_error_without_any_document_still_has_status_and_request_id():
    error = ServerError.from_response(response(404, x_oss_request_id="RID", x_oss_ec="0026-1"))
    assert type(error) is ServerError
    assert (error.status, error.code, error.request_id, error.ec) == (
        404,
        "NotFound",
        "RID",
        "0026-1",
    )


def test_callback_failure_is_a_callback_error_that_knows_the_upload_succeeded():
    resp = response(
        203,
        CALLBACK_FAILED,
        ETag='"D8E8FCA2DC0F896FD7CB4CB0031BA249"',
        x_oss_hash_crc64ecma="108247482078852440",
    )
    error = ServerError.from_response(resp)
    assert isinstance(error, CallbackError)
    assert (error.status, error.code, error.message) == (
        203,
        "CallbackFailed",
        "Error status : 500.",
    )
    assert error.upload_succeeded is True
    assert error.etag == "D8E8FCA2DC0F896FD7CB4CB0031BA249"
    assert error.crc64 == 108247482078852440
    text = str(error)
    for part in ("CallbackFailed", "Error status : 500.", "587C8D382AE0B92FA3EEF62C"):
        assert part in text


def test_json_error_bodies_are_understood():
    body = b'{"Error": {"Code": "AccessDenied", "Message": "denied", "RequestId": "J1"}}'
    error = ServerError.from_response(response(403, body, Content_Type="application/json"))
    assert isinstance(error, AccessDenied)
    assert (error.message, error.request_id) == ("denied", "J1")


def test_truncated_xml_still_yields_the_code():
    body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message><StringToSign>PUT\n"
    error = ServerError.from_response(response(403, body))
    assert isinstance(error, SignatureDoesNotMatch)
    assert error.message == "bad"


def test_unknown_codes_stay_plain_server_errors():
    body = b"<Error><Code>SomethingNew</Code><Message>m</Message></Error>"
    error = ServerError.from_response(response(400, body))
    assert type(error) is ServerError and error.code == "SomethingNew"


def test_tree_is_shallow_and_complete():
    assert issubclass(ClientError, OssError) and issubclass(ClientError, ValueError)
    for cls in (RequestError, InconsistentError, ServerError):
        assert issubclass(cls, OssError)
    assert issubclass(CallbackError, ServerError)
    cause = ConnectionError("reset")
    assert RequestError("failed", cause).cause is cause
    inconsistent = InconsistentError(1, 2, "R")
    assert (inconsistent.client_crc, inconsistent.server_crc, inconsistent.request_id) == (
        1,
        2,
        "R",
    )


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_without_body_use_the_status(status):
    error = ServerError.from_response(response(status))
    assert error.code == f"HTTP{status}" and error.status == status
