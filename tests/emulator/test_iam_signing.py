"""The STS request signatures against the published vectors (docs/direct-upload.md 4.6, 4.7)."""

from __future__ import annotations

from ossemu.emulator.iam.signing import (
    acs3_canonical_request,
    acs3_signature,
    acs3_string_to_sign,
    parse_acs3,
    rpc_signature,
    rpc_string_to_sign,
)


def test_rpc_vector_from_the_sts_signature_doc():
    params = [
        ("AccessKeyId", "testid"),
        ("Action", "AssumeRole"),
        ("Format", "JSON"),
        ("RoleArn", "acs:ram::1234567890123:role/firstrole"),
        ("RoleSessionName", "client"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "571f8fb8-506e-11e5-8e12-b8e8563dc8d2"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2015-09-01T05:57:34Z"),
        ("Version", "2015-04-01"),
        ("Signature", "ignored"),
    ]
    string_to_sign = rpc_string_to_sign("GET", params)
    assert string_to_sign == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DAssumeRole%26Format%3DJSON%26RoleArn%3Dacs"
        "%253Aram%253A%253A1234567890123%253Arole%252Ffirstrole%26RoleSessionName%3Dclient%26"
        "SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D571f8fb8-506e-11e5-8e12-b8e8563dc8d2%26"
        "SignatureVersion%3D1.0%26Timestamp%3D2015-09-01T05%253A57%253A34Z%26Version%3D2015-04-01"
    )
    assert rpc_signature("testsecret", string_to_sign) == "gNI7b0AyKZHxDgjBGPDgJ1Ce3L4="


def test_rpc_vector_from_the_tea_util_tests():
    string_to_sign = rpc_string_to_sign("GET", [("query", "test"), ("body", "test")])
    assert string_to_sign == "GET&%2F&body%3Dtest%26query%3Dtest"
    assert rpc_signature("secret", string_to_sign) == "XlUyV4sXjOuX5FnjUz9IF9tm5rU="


def test_acs3_vector_from_the_tea_util_tests():
    canonical = acs3_canonical_request(
        "GET",
        "/",
        [("test", "ok"), ("empty", "")],
        {"x-acs-test": ["http", "https"]},
        ["x-acs-test"],
        "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
    )
    assert canonical == (
        "GET\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n"
        "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23"
    )
    signature = acs3_signature("secret", acs3_string_to_sign(canonical))
    assert signature == "d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1"


def test_acs3_header_parsing():
    header = "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=ab12"
    assert parse_acs3(header) == {
        "Credential": "ak",
        "SignedHeaders": "host;x-acs-date",
        "Signature": "ab12",
    }
    assert parse_acs3("OSS ak:sig") is None
    assert parse_acs3("ACS3-HMAC-SHA256 Credential=ak") is None
