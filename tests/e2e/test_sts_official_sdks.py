"""The two official STS SDKs, unchanged, pointed at the emulator's own endpoint over http.

``alibabacloud-sts20150401`` signs ACS3-HMAC-SHA256 (``x-acs-action``); ``aliyun-python-sdk-sts``
on ``aliyun-python-sdk-core`` sends RPC requests signed HMAC-SHA1. Both sign with the
emulator's main key, and both signatures are checked.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from alibabacloud_sts20150401 import models as tea_models
from alibabacloud_sts20150401.client import Client as TeaSts
from alibabacloud_tea_openapi import models as openapi
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest
from aliyunsdksts.request.v20150401.GetCallerIdentityRequest import GetCallerIdentityRequest
from Tea.exceptions import TeaException

ROLE = "acs:ram::1000000000000001:role/uploader"
POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "oss:PutObject", "Resource": "acs:oss:*:*:b/u/*"}
        ],
    }
)


def tea_client(emulator, key=None, secret=None, token=None) -> TeaSts:
    config = openapi.Config(
        access_key_id=key or emulator.access_key_id,
        access_key_secret=secret or emulator.access_key_secret,
        security_token=token,
        endpoint=f"127.0.0.1:{emulator.port}",
        protocol="http",
    )
    return TeaSts(config)


def rpc_call(emulator, request, key=None, secret=None) -> dict:
    client = AcsClient(
        key or emulator.access_key_id, secret or emulator.access_key_secret, "cn-hangzhou"
    )
    request.set_endpoint(f"127.0.0.1:{emulator.port}")
    request.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(request))


def rpc_assume_role(**params: object) -> AssumeRoleRequest:
    request = AssumeRoleRequest()
    request.set_RoleArn(params.get("role_arn", ROLE))
    request.set_RoleSessionName(params.get("session", "alice"))
    if "duration" in params:
        request.set_DurationSeconds(params["duration"])
    if "policy" in params:
        request.set_Policy(params["policy"])
    return request


def expiration(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def test_tea_sdk_assume_role_returns_sealed_sts_credentials(oss_emulator):
    response = tea_client(oss_emulator).assume_role(
        tea_models.AssumeRoleRequest(
            role_arn=ROLE, role_session_name="alice", duration_seconds=900, policy=POLICY
        )
    )
    creds = response.body.credentials
    assert creds.access_key_id.startswith("STS.")
    assert creds.access_key_secret and creds.security_token
    assert creds.expiration.endswith("Z")
    assert abs(expiration(creds.expiration) - (oss_emulator.now() + 900)) < 5
    assert response.body.assumed_role_user.arn == f"{ROLE}/alice"


def test_tea_sdk_get_caller_identity_for_main_key_and_for_sts_session(oss_emulator):
    owner = tea_client(oss_emulator).get_caller_identity().body
    assert owner.identity_type == "Account"
    creds = (
        tea_client(oss_emulator)
        .assume_role(tea_models.AssumeRoleRequest(role_arn=ROLE, role_session_name="bob"))
        .body.credentials
    )
    session = tea_client(
        oss_emulator, creds.access_key_id, creds.access_key_secret, creds.security_token
    )
    me = session.get_caller_identity().body
    assert me.identity_type == "AssumedRoleUser"
    assert me.arn == f"{ROLE}/bob"


def test_rpc_sdk_assume_role_default_duration_is_an_hour(oss_emulator):
    answer = rpc_call(oss_emulator, rpc_assume_role(policy=POLICY))
    creds = answer["Credentials"]
    assert creds["AccessKeyId"].startswith("STS.")
    assert abs(expiration(creds["Expiration"]) - (oss_emulator.now() + 3600)) < 5
    assert answer["AssumedRoleUser"]["Arn"] == f"{ROLE}/alice"
    assert rpc_call(oss_emulator, GetCallerIdentityRequest())["IdentityType"] == "Account"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"duration": 899}, "InvalidParameter.DurationSeconds"),
        ({"duration": 43201}, "InvalidParameter.DurationSeconds"),
        ({"policy": '{"Version": "1", "Statements": []}'}, "InvalidParameter.PolicyGrammar"),
        ({"policy": "not json"}, "InvalidParameter.PolicyGrammar"),
        (
            {"policy": json.dumps({"Version": "1", "Statement": [], "x": "y" * 1100})},
            "InvalidParameter.PolicySize",
        ),
        ({"role_arn": "arn:aws:iam::1:role/x"}, "InvalidParameter.RoleArn"),
        ({"session": "a"}, "InvalidParameter.RoleSessionName"),
    ],
)
def test_rpc_sdk_assume_role_refuses_bad_parameters_with_sts_codes(oss_emulator, params, code):
    with pytest.raises(ServerException) as info:
        rpc_call(oss_emulator, rpc_assume_role(**params))
    assert info.value.get_http_status() == 400
    assert info.value.get_error_code() == code


def test_rpc_sdk_wrong_secret_is_a_signature_mismatch(oss_emulator):
    with pytest.raises(ServerException) as info:
        rpc_call(oss_emulator, rpc_assume_role(), secret="not-the-secret")
    # aliyun-python-sdk-core compares the server's string to sign with its own and, as they
    # match, names the real cause.
    assert info.value.get_error_code() in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")
    assert info.value.get_http_status() == 400


def test_rpc_sdk_unknown_key_is_not_found(oss_emulator):
    with pytest.raises(ServerException) as info:
        rpc_call(oss_emulator, rpc_assume_role(), key="nobody")
    assert (info.value.get_http_status(), info.value.get_error_code()) == (
        404,
        "InvalidAccessKeyId.NotFound",
    )


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [
        (None, "not-the-secret", "SignatureDoesNotMatch"),
        ("nobody", None, "InvalidAccessKeyId.NotFound"),
    ],
)
def test_tea_sdk_bad_credentials_get_sts_json_errors(oss_emulator, key, secret, code):
    client = tea_client(oss_emulator, key, secret)
    with pytest.raises(TeaException) as info:
        client.assume_role(tea_models.AssumeRoleRequest(role_arn=ROLE, role_session_name="x1"))
    assert info.value.code == code


def test_tea_sdk_duration_out_of_range(oss_emulator):
    with pytest.raises(TeaException) as info:
        tea_client(oss_emulator).assume_role(
            tea_models.AssumeRoleRequest(
                role_arn=ROLE, role_session_name="x1", duration_seconds=100
            )
        )
    assert info.value.code == "InvalidParameter.DurationSeconds"


def test_sts_session_expires_by_the_emulator_clock(oss_emulator):
    creds = (
        tea_client(oss_emulator)
        .assume_role(
            tea_models.AssumeRoleRequest(
                role_arn=ROLE, role_session_name="late", duration_seconds=900
            )
        )
        .body.credentials
    )
    session = tea_client(
        oss_emulator, creds.access_key_id, creds.access_key_secret, creds.security_token
    )
    oss_emulator.advance_clock(880)  # 20 s short of 900: room for a loaded machine's own seconds
    assert session.get_caller_identity().body.identity_type == "AssumedRoleUser"
    oss_emulator.advance_clock(21)
    with pytest.raises(TeaException) as info:
        session.get_caller_identity()
    assert info.value.code == "InvalidSecurityToken.Expired"


def test_a_session_cannot_assume_another_role(oss_emulator):
    creds = rpc_call(oss_emulator, rpc_assume_role())["Credentials"]
    session = tea_client(
        oss_emulator, creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]
    )
    with pytest.raises(TeaException) as info:
        session.assume_role(tea_models.AssumeRoleRequest(role_arn=ROLE, role_session_name="x1"))
    assert info.value.code == "NoPermission"
