"""STS on the emulator's endpoint, through Flask's test client: what is STS's, and its JSON
errors for requests the SDK tests cannot make (stale, unsigned, mis-signed, unknown)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossemu.client.sts import rpc_signature
from ossemu.emulator.app import create_app
from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.iam.signing import acs3_canonical_request, acs3_signature, acs3_string_to_sign

KEY, SECRET = "ak", "sk"
ROLE = "acs:ram::1000000000000001:role/r"


@pytest.fixture
def app(tmp_path):
    app = create_app(EmulatorConfig(data_dir=tmp_path, access_key_id=KEY, access_key_secret=SECRET))
    yield app
    app.extensions["ossemu"].close()


def rpc_params(action="AssumeRole", when=None, **extra) -> dict[str, str]:
    params = {
        "Action": action,
        "Version": "2015-04-01",
        "Format": "JSON",
        "AccessKeyId": KEY,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
        **({"RoleArn": ROLE, "RoleSessionName": "s1"} if action == "AssumeRole" else {}),
        **extra,
    }
    params["Signature"] = rpc_signature("POST", params, SECRET)
    return params


def test_rpc_parameters_in_an_urlencoded_body_as_ali_oss_sends_them(app):
    answer = app.test_client().post("/", data=rpc_params())
    assert answer.status_code == 200, answer.text
    assert answer.json["Credentials"]["AccessKeyId"].startswith("STS.")


def test_rpc_parameters_in_the_query(app):
    answer = app.test_client().post("/", query_string=rpc_params("GetCallerIdentity"))
    assert answer.json["IdentityType"] == "Account"


def test_sts_timestamps_are_checked_against_wall_time_not_the_test_clock(app):
    app.extensions["ossemu"].clock.advance(7200)
    assert app.test_client().post("/", data=rpc_params()).status_code == 200
    stale = app.test_client().post("/", data=rpc_params(when=time.time() - 16 * 60))
    assert (stale.status_code, stale.json["Code"]) == (400, "InvalidTimeStamp.Expired")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda p: p.pop("Signature"), 400, "MissingSignature"),
        (lambda p: p.update(Signature="AAAA"), 400, "SignatureDoesNotMatch"),
        (lambda p: p.update(RoleSessionName="other"), 400, "SignatureDoesNotMatch"),
        (lambda p: p.update(Timestamp="yesterday"), 400, "InvalidTimeStamp.Format"),
        (lambda p: p.update(AccessKeyId="nobody"), 404, "InvalidAccessKeyId.NotFound"),
    ],
)
def test_rpc_refusals_are_sts_json_errors(app, change, status, code):
    params = rpc_params()
    change(params)
    answer = app.test_client().post("/", data=params)
    assert (answer.status_code, answer.json["Code"]) == (status, code)
    assert set(answer.json) >= {"RequestId", "HostId", "Code", "Message"}


def test_signature_mismatch_message_carries_the_string_to_sign_after_one_colon(app):
    params = rpc_params()
    params["Signature"] = "AAAA"
    message = app.test_client().post("/", data=params).json["Message"]
    # aliyun-python-sdk-core reads the server's string to sign as Message.split(':')[1].
    assert message.split(":")[1].startswith("POST&%2F&AccessKeyId%3Dak")


def test_unknown_action_is_not_found(app):
    answer = app.test_client().post("/", data=rpc_params("DeleteEverything"))
    assert (answer.status_code, answer.json["Code"]) == (404, "InvalidAction.NotFound")


def test_an_action_parameter_without_version_is_still_oss(app):
    answer = app.test_client().get("/?Action=AssumeRole")
    assert answer.status_code == 403 and b"<Code>AccessDenied</Code>" in answer.data


def acs3_headers(
    secret=SECRET,
    signed=(
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ),
):
    headers = {
        "host": "localhost",
        "x-acs-action": "GetCallerIdentity",
        "x-acs-version": "2015-04-01",
        "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    canonical = acs3_canonical_request(
        "POST",
        "/",
        [],
        {k: [v] for k, v in headers.items()},
        list(signed),
        headers["x-acs-content-sha256"],
    )
    signature = acs3_signature(secret, acs3_string_to_sign(canonical))
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={KEY},SignedHeaders={';'.join(signed)},Signature={signature}"
    )
    return headers


def test_acs3_signed_request(app):
    answer = app.test_client().post("/", headers=acs3_headers())
    assert answer.status_code == 200, answer.text
    assert answer.json["IdentityType"] == "Account"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        (acs3_headers(secret="wrong"), "SignatureDoesNotMatch"),
        (acs3_headers(signed=("host", "x-acs-action")), "IncompleteSignature"),
    ],
)
def test_acs3_refusals(app, headers, code):
    answer = app.test_client().post("/", headers=headers)
    assert (answer.status_code, answer.json["Code"]) == (400, code)


def test_acs3_body_must_match_its_hash(app):
    answer = app.test_client().post("/", headers=acs3_headers(), data=b"tampered")
    assert answer.json["Code"] == "SignatureDoesNotMatch"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            json.dumps,
            st.fixed_dictionaries(
                {
                    "Version": st.just("1"),
                    "Statement": st.lists(
                        st.dictionaries(
                            st.sampled_from(["Effect", "Action", "Resource", "Condition"]),
                            st.one_of(
                                st.text(max_size=10), st.lists(st.text(max_size=10), max_size=2)
                            ),
                        ),
                        max_size=3,
                    ),
                }
            ),
        ),
    )
)
def test_any_policy_gets_credentials_or_an_sts_error_never_a_500(app, text):
    answer = app.test_client().post("/", data=rpc_params(Policy=text))
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json["Code"].startswith("InvalidParameter.Policy")


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ({"RoleSessionName": "s" * 33}, "InvalidParameter.RoleSessionName", "wrongly formed"),
        ({"RoleSessionName": "x"}, "InvalidParameter.RoleSessionName", "wrongly formed"),
        ({"DurationSeconds": "899"}, "InvalidParameter.DurationSeconds", "15min/1hr"),
        ({"DurationSeconds": "43201"}, "InvalidParameter.DurationSeconds", "15min/1hr"),
    ],
)
def test_assume_role_parameters_out_of_the_documented_range(app, extra, code, message):
    """2-32 characters of session name and 900-43200 s, with the messages the docs quote."""
    answer = app.test_client().post("/", data=rpc_params(**extra))
    assert (answer.status_code, answer.json["Code"]) == (400, code)
    assert message in answer.json["Message"]


def test_a_32_character_session_name_and_12_hours_are_accepted(app):
    params = rpc_params(RoleSessionName="s" * 32, DurationSeconds="43200")
    assert app.test_client().post("/", data=params).status_code == 200
