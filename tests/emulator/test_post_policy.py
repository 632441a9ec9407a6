"""The policy checks as pure functions, pinned by the Java SDK's vectors (docs/direct-upload.md
section 1.10) and a V4 vector computed from the spec."""

from __future__ import annotations

import base64
import json

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.protocol.post_policy import (
    check_conditions,
    check_expiration,
    check_size,
    decode_policy,
    verify_form_signature,
)
from tests.support import JAVA_POLICY, JAVA_SECRET, V4_POLICY

V4_NOW = 1701605532.0  # 2023-12-03T12:12:12Z


def encoded(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def test_java_sdk_v1_vector_verifies():
    fields = {
        "ossaccesskeyid": "ak",
        "policy": JAVA_POLICY,
        "signature": "9fs2TRS2W2k5hV8mLsvqZBnlC2M=",
    }

    assert verify_form_signature(fields, {"ak": JAVA_SECRET}, now=0) == "ak"


def test_java_sdk_policy_reads_its_escaped_dollar_as_a_literal_one():
    policy = decode_policy(JAVA_POLICY)
    fields = {"key": "user/eric/${filename}", "x-oss-meta-tag": "dummy_etag_1"}

    check_conditions(policy, fields, "gen-post-policy")
    assert policy.size_range == (1, 1024)
    with pytest.raises(OssError) as caught:
        check_conditions(policy, {**fields, "key": "user/eric/a.txt"}, "gen-post-policy")
    assert caught.value.ec == "0006-00000227"


def test_v4_vector_verifies_and_its_date_window_is_enforced():
    fields = {
        "policy": V4_POLICY,
        "x-oss-signature-version": "OSS4-HMAC-SHA256",
        "x-oss-credential": "ak/20231203/cn-hangzhou/oss/aliyun_v4_request",
        "x-oss-date": "20231203T121212Z",
        "x-oss-signature": "00a867c28c763ac3e14a0bd37dd675c9414ee3258e327b629c5ea9531f86c3b1",
    }

    assert verify_form_signature(fields, {"ak": "sk"}, now=V4_NOW) == "ak"
    with pytest.raises(OssError) as late:
        verify_form_signature(fields, {"ak": "sk"}, now=V4_NOW + 8 * 86400)
    assert (late.value.status, late.value.code) == (403, "AccessDenied")
    with pytest.raises(OssError) as wrong:
        verify_form_signature(fields, {"ak": "other"}, now=V4_NOW)
    assert (wrong.value.code, wrong.value.details["StringToSign"]) == (
        "SignatureDoesNotMatch",
        V4_POLICY,
    )


def test_v1_signature_of_the_v4_policy_matches_the_docs():
    fields = {
        "ossaccesskeyid": "ak",
        "policy": V4_POLICY,
        "signature": "Rtk/GklTKIojTTISAh6ORvi4rgA=",
    }

    assert verify_form_signature(fields, {"ak": "sk"}, now=0) == "ak"


def test_expiration_with_and_without_milliseconds():
    for stamp in ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.123Z"):
        policy = decode_policy(encoded({"expiration": stamp, "conditions": [{"a": "b"}]}))
        check_expiration(policy, now=1_800_000_000)
        with pytest.raises(OssError) as caught:
            check_expiration(policy, now=1_900_000_000)
        assert caught.value.message == "Invalid according to Policy: Policy expired."


@pytest.mark.parametrize(
    ("document", "ec"),
    [
        ("[1]", "0006-00000204"),
        ('{"expiration": "2030-01-01T00:00:00Z"}', "0006-00000207"),
        ('{"conditions": [{"a": "b"}]}', "0006-00000208"),
        ("{}", "0006-00000209"),
        ('{"expiration": 5, "conditions": [{"a": "b"}]}', "0006-00000210"),
        ('{"expiration": "tomorrow", "conditions": [{"a": "b"}]}', "0006-00000212"),
        ('{"expiration": "2030-13-01T00:00:00Z", "conditions": [{"a": "b"}]}', "0006-00000212"),
        ('{"expiration": "2030-01-01T00:00:00Z", "conditions": []}', "0006-00000215"),
        ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [[]]}', "0006-00000216"),
        ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$a"]]}', "0006-00000218"),
        ('{"expiration": "2030-01-01T00:00:00Z", "conditions": [7]}', "0006-00000222"),
        (
            '{"expiration": "2030-01-01T00:00:00Z",'
            ' "conditions": [["content-length-range", "a", 1]]}',
            "0006-00000220",
        ),
        (
            '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$a", null]]}',
            "0006-00000224",
        ),
    ],
)
def test_malformed_policy_documents(document, ec):
    with pytest.raises(OssError) as caught:
        decode_policy(base64.b64encode(document.encode()).decode())

    assert (caught.value.status, caught.value.code, caught.value.ec) == (
        400,
        "InvalidPolicyDocument",
        ec,
    )


def test_not_utf8_and_not_base64():
    for raw, ec in (
        ("@@@@", "0006-00000202"),
        ("YWJj=", "0006-00000202"),
        ("/w==", "0006-00000203"),
    ):
        with pytest.raises(OssError) as caught:
            decode_policy(raw)
        assert caught.value.ec == ec


def test_condition_field_names_ignore_case_and_dollar():
    policy = decode_policy(
        encoded(
            {
                "expiration": "2030-01-01T00:00:00Z",
                "conditions": [
                    ["eq", "success_action_status", "201"],
                    ["in", "$Content-Type", ["a"]],
                ],
            }
        )
    )

    check_conditions(policy, {"success_action_status": "201", "content-type": "a"}, "b")


def test_several_content_length_ranges_intersect():
    policy = decode_policy(
        encoded(
            {
                "expiration": "2030-01-01T00:00:00Z",
                "conditions": [
                    ["content-length-range", 0, 10],
                    ["content-length-range", "2", "20"],
                ],
            }
        )
    )

    assert policy.size_range == (2, 10)
    check_size(policy, 2)
    for size, code in ((1, "EntityTooSmall"), (11, "EntityTooLarge")):
        with pytest.raises(OssError) as caught:
            check_size(policy, size)
        assert caught.value.code == code


def test_conditions_on_the_signature_fields_are_ignored():
    policy = decode_policy(
        encoded(
            {
                "expiration": "2030-01-01T00:00:00Z",
                "conditions": [["eq", "$Signature", "x"], ["eq", "$policy", "y"], {"file": "z"}],
            }
        )
    )

    check_conditions(policy, {"signature": "other", "policy": "other"}, "b")


def test_a_policy_is_decoded_once_and_a_defect_is_raised_every_time():
    text = encoded({"expiration": "2030-01-01T00:00:00Z", "conditions": [{"bucket": "b"}]})
    assert decode_policy(text) is decode_policy(text)
    broken = encoded({"expiration": "2030-01-01T00:00:00Z"})
    for _ in range(2):
        with pytest.raises(OssError) as caught:
            decode_policy(broken)
        assert caught.value.ec == "0006-00000207"


def test_an_oversized_policy_is_decoded_but_not_kept():
    padding = [{"x-oss-meta-pad": "p" * 100}] * 100  # about 10 KiB once encoded
    text = encoded({"expiration": "2030-01-01T00:00:00Z", "conditions": padding})
    assert len(text) > 8 * 1024
    first, second = decode_policy(text), decode_policy(text)
    assert first == second and first is not second
