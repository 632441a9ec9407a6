"""Request-signature verification: published vectors, the real SDKs' signers, and every refusal.

Vectors come from docs/oss-protocol.md section 7 (alibabacloud-oss-v2 ``tests/unit/signer`` and
the SIGV1 doc page). The SDK round trips call oss2's and alibabacloud-oss-v2's own signing code on
a prepared request and feed the result to :func:`verify_request`, as the route layer would.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import oss2
import pytest
from alibabacloud_oss_v2.credentials import StaticCredentialsProvider
from alibabacloud_oss_v2.signer import SignerV1, SignerV4
from alibabacloud_oss_v2.types import HttpRequest, SigningContext
from hypothesis import given, settings
from hypothesis import strategies as st
from oss2.http import Request as Oss2Request

from ossemu.emulator.protocol.auth import (
    SUBRESOURCES,
    Credential,
    SignedRequest,
    v1_canonical_resource,
    v1_signature,
    v1_string_to_sign,
    v4_canonical_request,
    v4_signature,
    v4_signing_key,
    v4_string_to_sign,
    verify_request,
)
from ossemu.emulator.protocol.errors import BadRequest, Forbidden, OssError

SECRETS = {"ak": "sk"}


def VECTOR_KEYS(access_key_id: str, token: str | None) -> Credential:
    """The SDK vectors' key, which they also sign with the SecurityToken ``token``."""
    if access_key_id != "ak" or token not in (None, "token"):
        raise Forbidden("InvalidAccessKeyId")
    return Credential("sk")


V4_PARAMS = [
    ("param1", "value1"),
    ("+param1", "value3"),
    ("|param1", "value4"),
    ("+param2", ""),
    ("|param2", ""),
    ("param2", ""),
]
V4_KEY = "1234+-/123/1.txt"
V4_HEADERS = {"x-oss-head1": "value", "abc": "value", "zabc": "value", "xyz": "value"}
V4_CREDENTIAL = "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request"
V1_DATE = "Wed, 28 Dec 2022 10:27:41 GMT"
V1_NOW = 1672223261.0
V1_PUT_HEADERS = {
    "content-md5": "eB5eJF1ptWaXm4bijSPyxw==",
    "content-type": "text/html",
    "x-oss-meta-author": "alice",
    "x-oss-meta-magic": "abracadabra",
    "x-oss-date": V1_DATE,
}


def request(method="GET", bucket="bucket", key="key", query=(), headers=None) -> SignedRequest:
    return SignedRequest(method, bucket, key, list(query), dict(headers or {}))


def with_headers(req: SignedRequest, **extra: str) -> SignedRequest:
    return SignedRequest(req.method, req.bucket, req.key, req.query, {**req.headers, **extra})


def with_query(req: SignedRequest, *pairs: tuple[str, str]) -> SignedRequest:
    return SignedRequest(req.method, req.bucket, req.key, [*req.query, *pairs], req.headers)


def rejected(req: SignedRequest, now: float, secrets=SECRETS) -> OssError:
    with pytest.raises(OssError) as info:
        verify_request(req, secrets, now=now)
    return info.value


def iso(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


# --- published vectors ---------------------------------------------------------------------------

V1_HEADER_VECTORS = [
    pytest.param(
        request("PUT", "examplebucket", "nelson", headers=V1_PUT_HEADERS),
        "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n"
        "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n"
        "x-oss-meta-magic:abracadabra\n/examplebucket/nelson",
        "kSHKmLxlyEAKtZPkJhG9bZb5k7M=",
        id="put-object",
    ),
    pytest.param(
        request("PUT", "examplebucket", "nelson", [("acl", "")], V1_PUT_HEADERS),
        "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n"
        "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n"
        "x-oss-meta-magic:abracadabra\n/examplebucket/nelson?acl",
        "/afkugFbmWDQ967j1vr6zygBLQk=",
        id="put-object-acl",
    ),
    pytest.param(
        request(
            "GET",
            "examplebucket",
            None,
            [("resourceGroup", ""), ("non-resousce", "null")],
            {"x-oss-date": V1_DATE},
        ),
        "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n"
        "/examplebucket/?resourceGroup",
        "vkQmfuUDyi1uDi3bKt67oemssIs=",
        id="bucket-subresource-only",
    ),
    pytest.param(
        request(
            "GET",
            "examplebucket",
            None,
            [("resourceGroup", ""), ("acl", "")],
            {"x-oss-date": V1_DATE},
        ),
        "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n"
        "/examplebucket/?acl&resourceGroup",
        "x3E5TgOvl/i7PN618s5mEvpJDYk=",
        id="subresources-sorted",
    ),
]


@pytest.mark.parametrize(("req", "string_to_sign", "signature"), V1_HEADER_VECTORS)
def test_v1_header_vectors(req, string_to_sign, signature):
    assert v1_string_to_sign(req, V1_DATE) == string_to_sign
    assert v1_signature("sk", string_to_sign) == signature
    signed = with_headers(req, authorization=f"OSS ak:{signature}")
    assert verify_request(signed, SECRETS, now=V1_NOW) == "ak"


def test_v1_doc_vector_signs_the_string_the_doc_prints():
    # The SIGV1 page's HTTP example shows another Content-MD5 than the string it signs.
    string_to_sign = (
        "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\n"
        "Thu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n"
        "/oss-example/nelson"
    )
    secret = "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV"
    assert v1_signature(secret, string_to_sign) == "26NBxoKdsyly4EDv6inkoDft/yA="
    req = request(
        "PUT",
        "oss-example",
        "nelson",
        headers={
            "content-md5": "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=",
            "content-type": "text/html",
            "date": "Thu, 17 Nov 2005 18:49:58 GMT",
            "x-oss-magic": "abracadabra",
            "x-oss-meta-author": "foo@bar.com",
            "authorization": "OSS 44CF9590006BF252F707:26NBxoKdsyly4EDv6inkoDft/yA=",
        },
    )
    assert verify_request(req, {"44CF9590006BF252F707": secret}, now=1132253398) == (
        "44CF9590006BF252F707"
    )


V1_URL_VECTORS = [
    pytest.param(
        request("GET", "bucket", "key", [("versionId", "versionId")]),
        "1699807420",
        "GET\n\n\n1699807420\n/bucket/key?versionId=versionId",
        "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=",
        id="version-id",
    ),
    pytest.param(
        request(
            "GET", "bucket", "key+123", [("versionId", "versionId"), ("security-token", "token")]
        ),
        "1699808204",
        "GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId",
        "jzKYRrM5y6Br0dRFPaTGOsbrDhY=",
        id="sts-token",
    ),
    pytest.param(
        request(
            "GET",
            "bucket",
            "key",
            # The SDK test appends "?param1=…" to a URL that already has a query, so the
            # versionId value swallows "?param1=value1"; the vector signs exactly that.
            [
                ("versionId", "versionId?param1=value1"),
                *V4_PARAMS[1:],
                ("response-content-disposition", "attachment; filename=example.txt"),
                ("security-token", "token"),
            ],
            {**V4_HEADERS, "content-type": "application/octet-stream"},
        ),
        "1699808204",
        "GET\n\napplication/octet-stream\n1699808204\nx-oss-head1:value\n/bucket/key?"
        "response-content-disposition=attachment; filename=example.txt&security-token=token"
        "&versionId=versionId?param1=value1",
        "3GJoEOv5LX2ASp0HJk/hAk+qLJc=",
        id="non-subresources-left-out",
    ),
]


@pytest.mark.parametrize(("req", "expires", "string_to_sign", "signature"), V1_URL_VECTORS)
def test_v1_presigned_url_vectors(req, expires, string_to_sign, signature):
    assert v1_string_to_sign(req, expires) == string_to_sign
    assert v1_signature("sk", string_to_sign) == signature
    signed = with_query(
        req, ("OSSAccessKeyId", "ak"), ("Expires", expires), ("Signature", signature)
    )
    assert verify_request(signed, VECTOR_KEYS, now=int(expires) - 60) == "ak"


def test_v4_canonical_request_vector():
    req = request(
        "PUT",
        "bucket",
        V4_KEY,
        V4_PARAMS,
        {
            **V4_HEADERS,
            "content-type": "text/plain",
            "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
            "x-oss-date": "20231216T162057Z",
        },
    )
    canonical = v4_canonical_request(req)
    assert canonical == (
        "PUT\n/bucket/1234%2B-/123/1.txt\n"
        "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n"
        "content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n"
        "x-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
    )
    scope = "20231216/cn-hangzhou/oss/aliyun_v4_request"
    string_to_sign = v4_string_to_sign("20231216T162057Z", scope, canonical)
    assert string_to_sign.splitlines() == [
        "OSS4-HMAC-SHA256",
        "20231216T162057Z",
        scope,
        "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4",
    ]
    key = v4_signing_key("sk", "20231216", "cn-hangzhou")
    assert v4_signature(key, string_to_sign) == (
        "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
    )


V4_HEADER_VECTORS = [
    pytest.param(
        1702743657,
        {},
        "",
        "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe",
        id="plain",
    ),
    pytest.param(
        1702747512,
        {},
        "abc;zabc",
        "4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
        id="additional-headers",
    ),
    pytest.param(
        1702784856,
        {"x-oss-security-token": "token"},
        "",
        "b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea",
        id="sts-token",
    ),
]


@pytest.mark.parametrize("separator", [",", ", "])
@pytest.mark.parametrize(("when", "extra", "additional", "signature"), V4_HEADER_VECTORS)
def test_v4_header_vectors(when, extra, additional, signature, separator):
    date = iso(when)[:8]
    fields = [f"Credential=ak/{date}/cn-hangzhou/oss/aliyun_v4_request"]
    fields += [f"AdditionalHeaders={additional}"] if additional else []
    fields += [f"Signature={signature}"]
    req = request(
        "PUT",
        "bucket",
        V4_KEY,
        V4_PARAMS,
        {
            **V4_HEADERS,
            **extra,
            "content-type": "text/plain",
            "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
            "x-oss-date": iso(when),
            "authorization": "OSS4-HMAC-SHA256 " + separator.join(fields),
        },
    )
    assert verify_request(req, VECTOR_KEYS, now=when) == "ak"


V4_PRESIGN_VECTORS = [
    pytest.param(
        1702781677,
        [],
        "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe",
        id="plain",
    ),
    pytest.param(
        1702785388,
        [("x-oss-security-token", "token")],
        "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5",
        id="sts-token",
    ),
    pytest.param(
        1702783809,
        [("x-oss-additional-headers", "abc;zabc")],
        "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7",
        id="additional-headers",
    ),
]


@pytest.mark.parametrize(("when", "extra", "signature"), V4_PRESIGN_VECTORS)
def test_v4_presigned_url_vectors(when, extra, signature):
    req = request(
        "PUT",
        "bucket",
        V4_KEY,
        [
            *V4_PARAMS,
            ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
            ("x-oss-date", iso(when)),
            ("x-oss-expires", "599"),
            ("x-oss-credential", f"ak/{iso(when)[:8]}/cn-hangzhou/oss/aliyun_v4_request"),
            *extra,
            ("x-oss-signature", signature),
        ],
        {**V4_HEADERS, "content-type": "application/octet-stream"},
    )
    assert verify_request(req, VECTOR_KEYS, now=when + 598) == "ak"


def test_canonical_resource_shapes():
    assert v1_canonical_resource(None, None, []) == "/"
    assert v1_canonical_resource("b", None, [("uploads", "")]) == "/b/?uploads"
    assert v1_canonical_resource(
        "b", "dir/a b+c", [("partNumber", "1"), ("uploadId", "X"), ("prefix", "p")]
    ) == ("/b/dir/a b+c?partNumber=1&uploadId=X")


def test_subresources_cover_every_sdk_list():
    assert oss2.auth.ProviderAuth._subresource_key_set <= SUBRESOURCES
    assert SignerV1._subresource_key_set <= SUBRESOURCES
    assert not {"OSSAccessKeyId", "Expires", "Signature", "prefix", "max-keys"} & SUBRESOURCES


# --- the real SDKs' signers ----------------------------------------------------------------------

KEYS = [
    "plain.txt",
    "dir/sub/file.txt",
    "with space.txt",
    "a+b=c&d%20.txt",
    "中文/ключ 😀.bin",
    "~tilde*star'(paren).txt",
]
CALLBACK = base64.b64encode(
    json.dumps(
        {
            "callbackUrl": "http://127.0.0.1:9/cb",
            "callbackBody": "bucket=${bucket}&object=${object}",
        }
    ).encode()
).decode()
SUBRESOURCE_CASES = {
    "none": ({}, {}),
    "initiate-multipart": ({"uploads": ""}, {"content-type": "application/octet-stream"}),
    "upload-part": ({"partNumber": "1", "uploadId": "0004B9894A22E5B1888A1E29F823****"}, {}),
    "acl": ({"acl": ""}, {"x-oss-object-acl": "private"}),
    "callback": (
        {},
        {
            "x-oss-callback": CALLBACK,
            "x-oss-callback-var": CALLBACK,
            "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
        },
    ),
}
NOW = 1735689600.0  # 2025-01-01T00:00:00Z; alibabacloud-oss-v2 takes a signing time, oss2 does not


def from_url(method: str, url: str, bucket: str, key: str, headers) -> SignedRequest:
    """Decode the query as the route layer does (percent-decoding, wire order)."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    sent = {k.lower(): v for k, v in headers.items() if v is not None}
    return SignedRequest(method, bucket, key, query, sent)


def sign_oss2(auth, key: str, params: dict, headers: dict) -> tuple[SignedRequest, float]:
    req = Oss2Request(
        "PUT",
        "http://127.0.0.1:9000/bucket/x",
        params=dict(params),
        headers=dict(headers),
        region="cn-hangzhou",
        product="oss",
    )
    auth._sign_request(req, "bucket", key)
    return from_url("PUT", "?" + urlencode(req.params), "bucket", key, req.headers), time.time()


def sign_v2(signer, key: str, params: dict, headers: dict, secret="sk", **ctx_extra):
    url = f"http://127.0.0.1:9000/bucket/{quote(key)}"
    if params:
        url += "?" + urlencode(params, quote_via=quote)
    http = HttpRequest("PUT", url)
    http.headers.update(headers)
    ctx = SigningContext(
        product="oss",
        region="cn-hangzhou",
        bucket="bucket",
        key=key,
        request=http,
        credentials=StaticCredentialsProvider("ak", secret).get_credentials(),
        signing_time=dt.datetime.fromtimestamp(NOW, dt.timezone.utc),
        **ctx_extra,
    )
    return ctx, http


def sign_v2_header(signer, key, params, headers, secret="sk"):
    ctx, http = sign_v2(signer, key, params, headers, secret)
    signer.sign(ctx)
    return from_url("PUT", http.url, "bucket", key, http.headers), NOW


SIGNERS = {
    "oss2-v1": lambda key, params, headers: sign_oss2(oss2.Auth("ak", "sk"), key, params, headers),
    "oss2-v4": lambda key, params, headers: sign_oss2(
        oss2.AuthV4("ak", "sk"), key, params, headers
    ),
    "v2-v1": lambda key, params, headers: sign_v2_header(SignerV1(), key, params, headers),
    "v2-v4": lambda key, params, headers: sign_v2_header(SignerV4(), key, params, headers),
}


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("signer", SIGNERS)
def test_sdk_signed_keys_are_accepted(signer, key):
    req, now = SIGNERS[signer](key, {}, {"x-oss-meta-note": "héllo"})
    assert verify_request(req, SECRETS, now=now) == "ak"


@pytest.mark.parametrize("case", SUBRESOURCE_CASES)
@pytest.mark.parametrize("signer", SIGNERS)
def test_sdk_signed_subresources_are_accepted(signer, case):
    params, headers = SUBRESOURCE_CASES[case]
    req, now = SIGNERS[signer]("dir/object name.txt", params, headers)
    assert verify_request(req, SECRETS, now=now) == "ak"


@pytest.mark.parametrize("signer", SIGNERS)
def test_sdk_signature_with_the_wrong_secret_is_refused(signer):
    req, now = SIGNERS[signer]("a/b c.txt", {"uploads": ""}, {})
    err = rejected(req, now, {"ak": "another-secret"})
    assert isinstance(err, Forbidden)
    assert (err.status, err.code) == (403, "SignatureDoesNotMatch")
    assert err.details["OSSAccessKeyId"] == "ak"
    assert err.details["SignatureProvided"] in req.headers["authorization"]
    assert bytes.fromhex(err.details["StringToSignBytes"]).decode() == err.details["StringToSign"]
    assert b"<StringToSign>" in err.to_xml("RID", "host")


@pytest.mark.parametrize("signer", [SignerV1(), SignerV4()], ids=["v1", "v4"])
def test_mismatch_reports_the_string_the_sdk_signed(signer):
    ctx, http = sign_v2(signer, "k.txt", {"acl": ""}, {"content-type": "text/plain"}, "wrong")
    signer.sign(ctx)
    err = rejected(from_url("PUT", http.url, "bucket", "k.txt", http.headers), NOW)
    assert err.code == "SignatureDoesNotMatch"
    assert err.details["StringToSign"] == ctx.string_to_sign
    assert ("CanonicalRequest" in err.details) is isinstance(signer, SignerV4)


def test_oss2_v4_additional_headers_after_the_signature_are_accepted():
    req = Oss2Request(
        "GET",
        "http://127.0.0.1:9000/bucket/k",
        headers={"range": "bytes=0-9"},
        region="cn-hangzhou",
        product="oss",
    )
    oss2.AuthV4("ak", "sk")._sign_request(req, "bucket", "k", in_additional_headers=["Range"])
    assert req.headers["authorization"].endswith(", AdditionalHeaders=range")
    signed = from_url("GET", "", "bucket", "k", req.headers)
    assert verify_request(signed, SECRETS, now=time.time()) == "ak"


def test_v2_v4_additional_headers_are_signed():
    ctx, http = sign_v2(
        SignerV4(),
        "k",
        {},
        {"Range": "bytes=0-9", "ZAbc": "v"},
        additional_headers={"range", "zabc", "x-oss-ignored"},
    )
    SignerV4().sign(ctx)
    req = from_url("PUT", http.url, "bucket", "k", http.headers)
    assert verify_request(req, SECRETS, now=NOW) == "ak"
    err = rejected(with_headers(req, range="bytes=0-99"), NOW)
    assert err.code == "SignatureDoesNotMatch"


def test_tampered_signed_header_is_refused():
    req, now = SIGNERS["v2-v4"]("k", {}, {"x-oss-meta-owner": "alice"})
    assert rejected(with_headers(req, **{"x-oss-meta-owner": "mallory"}), now).code == (
        "SignatureDoesNotMatch"
    )


# --- presigned URLs ------------------------------------------------------------------------------


def presign_oss2(auth, key: str, params: dict, expires: int) -> tuple[SignedRequest, float]:
    req = Oss2Request(
        "GET",
        "http://127.0.0.1:9000/bucket/x",
        params=dict(params),
        region="cn-hangzhou",
        product="oss",
    )
    signed_at = time.time()
    url = auth._sign_url(req, "bucket", key, expires)
    return from_url("GET", url, "bucket", key, {}), signed_at


def presign_v2(signer, key: str, params: dict, expires: int) -> tuple[SignedRequest, float]:
    ctx, http = sign_v2(signer, key, params, {})
    ctx.auth_method_query = True
    ctx.expiration_time = dt.datetime.fromtimestamp(NOW + expires, dt.timezone.utc)
    signer.sign(ctx)
    return from_url("PUT", http.url, "bucket", key, {}), NOW


PRESIGNERS = {
    "oss2-v1": lambda key, params, exp: presign_oss2(oss2.Auth("ak", "sk"), key, params, exp),
    "oss2-v4": lambda key, params, exp: presign_oss2(oss2.AuthV4("ak", "sk"), key, params, exp),
    "v2-v1": lambda key, params, exp: presign_v2(SignerV1(), key, params, exp),
    "v2-v4": lambda key, params, exp: presign_v2(SignerV4(), key, params, exp),
}


@pytest.mark.parametrize("signer", PRESIGNERS)
def test_presigned_url_works_until_it_expires(signer):
    params = {"callback": CALLBACK, "response-content-type": "text/plain", "x": "1 2"}
    req, signed_at = PRESIGNERS[signer]("中文/a+b c.txt", params, 600)
    assert verify_request(req, SECRETS, now=signed_at + 1) == "ak"
    assert verify_request(req, SECRETS, now=signed_at + 590) == "ak"
    replay = rejected(req, signed_at + 1200)
    assert (replay.status, replay.code, replay.message) == (
        403,
        "AccessDenied",
        "Request has expired.",
    )


@pytest.mark.parametrize("signer", PRESIGNERS)
def test_expiry_is_checked_before_the_signature(signer):
    req, signed_at = PRESIGNERS[signer]("k", {}, 60)
    assert rejected(req, signed_at + 3600, {"ak": "wrong"}).message == "Request has expired."


@pytest.mark.parametrize("signer", PRESIGNERS)
def test_presigned_url_with_an_added_subresource_is_refused(signer):
    req, signed_at = PRESIGNERS[signer]("k", {}, 60)
    assert rejected(with_query(req, ("acl", "")), signed_at).code == "SignatureDoesNotMatch"


V1_URL = request(query=[("OSSAccessKeyId", "ak"), ("Expires", "1700000000"), ("Signature", "x")])


@pytest.mark.parametrize("missing", ["OSSAccessKeyId", "Expires", "Signature"])
def test_v1_url_needs_all_three_parameters(missing):
    req = request(query=[(k, v) for k, v in V1_URL.query if k != missing])
    err = rejected(req, 1699999999)
    assert (err.code, err.message) == (
        "AccessDenied",
        "Query string authentication requires the Signature, Expires and OSSAccessKeyId parameters",
    )


@pytest.mark.parametrize(
    "expires", ["soon", "1.5", "-1", "²", "١٧٠٠٠٠٠٠٠٠", " 1700000000", "17000000000", "9" * 5000]
)
def test_v1_url_with_a_bad_expires_is_refused(expires):
    req = request(query=[("OSSAccessKeyId", "ak"), ("Expires", expires), ("Signature", "x")])
    err = rejected(req, 0)
    assert (err.code, err.message) == (
        "AccessDenied",
        "Invalid date (should be seconds since epoch)",
    )


def test_v1_url_repeated_parameter_uses_the_first():
    string_to_sign = v1_string_to_sign(request(), "1700000000")
    req = request(
        query=[
            ("OSSAccessKeyId", "ak"),
            ("OSSAccessKeyId", "other"),
            ("Expires", "1700000000"),
            ("Signature", v1_signature("sk", string_to_sign)),
        ]
    )
    assert verify_request(req, SECRETS, now=1699999999) == "ak"


def test_v1_url_whose_first_key_id_is_empty_lacks_one():
    """The first occurrence wins even when it is empty: a later one does not fill it in."""
    req = request(query=[("OSSAccessKeyId", ""), *V1_URL.query])
    err = rejected(req, 1699999999)
    assert err.message.startswith("Query string authentication requires the Signature")


@pytest.mark.parametrize("expires", ["604801", "0", "-5", "abc"])
def test_v4_url_lifetime_must_be_within_seven_days(expires):
    when = 1702781677
    req = request(
        query=[
            ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
            ("x-oss-date", iso(when)),
            ("x-oss-expires", expires),
            ("x-oss-credential", "ak/20231217/cn-hangzhou/oss/aliyun_v4_request"),
            ("x-oss-signature", "0" * 64),
        ]
    )
    err = rejected(req, when)
    assert (err.status, err.code, err.details["ArgumentName"]) == (
        400,
        "InvalidArgument",
        "x-oss-expires",
    )


def test_v4_url_missing_a_parameter_is_refused():
    req = request(query=[("x-oss-signature-version", "OSS4-HMAC-SHA256"), ("x-oss-signature", "0")])
    assert rejected(req, 0).code == "AccessDenied"


def test_v2_signature_url_is_reported_as_unsupported():
    url = oss2.Bucket(oss2.AuthV2("ak", "sk"), "http://127.0.0.1:9000", "bucket").sign_url(
        "GET", "k", 60
    )
    err = rejected(from_url("GET", url, "bucket", "k", {}), time.time())
    assert (err.code, err.details["ArgumentName"]) == ("InvalidArgument", "x-oss-signature-version")


# --- refusals ------------------------------------------------------------------------------------


def test_anonymous_request_is_denied_as_a_private_bucket_would():
    req = request(query=[("uploads", "")], headers={"date": "x"})
    err = rejected(req, 0)
    assert (err.status, err.code, err.message) == (
        403,
        "AccessDenied",
        "You have no right to access this object because of bucket acl.",
    )


def test_unknown_access_key_is_named_in_the_error():
    req, now = SIGNERS["oss2-v1"]("k", {}, {})
    err = rejected(req, now, {"someone-else": "sk"})
    assert (err.status, err.code, err.details) == (
        403,
        "InvalidAccessKeyId",
        {"OSSAccessKeyId": "ak"},
    )


@pytest.mark.parametrize("signer", SIGNERS)
def test_request_time_more_than_15_minutes_off_is_too_skewed(signer):
    req, now = SIGNERS[signer]("k", {}, {})
    assert verify_request(req, SECRETS, now=now + 14 * 60) == "ak"
    for skew in (16 * 60, -16 * 60):
        err = rejected(req, now + skew)
        assert (err.status, err.code) == (403, "RequestTimeTooSkewed")
        assert set(err.details) == {"MaxAllowedSkewMilliseconds", "RequestTime", "ServerTime"}


def test_header_and_url_signature_together_are_invalid():
    req, now = SIGNERS["oss2-v1"]("k", {}, {})
    err = rejected(with_query(req, ("OSSAccessKeyId", "ak")), now)
    assert (err.status, err.code) == (400, "InvalidArgument")


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "OSS ak:c2ln"},
        {"authorization": "OSS ak:c2ln", "date": "yesterday"},
        {"authorization": "OSS ak:c2ln", "x-oss-date": "Wed, 31 Feb 2022 10:27:41 GMT"},
        {
            "authorization": f"{V4_CREDENTIAL},Signature=00",
            "date": "Sat, 16 Dec 2023 16:20:57 GMT",
        },
        {
            "authorization": f"{V4_CREDENTIAL},Signature=00",
            "x-oss-date": "Sat, 16 Dec 2023 16:20:57 GMT",
        },
    ],
    ids=["v1-no-date", "v1-bad-date", "v1-impossible-date", "v4-no-x-oss-date", "v4-rfc1123"],
)
def test_missing_or_unparseable_date_is_denied(headers):
    err = rejected(request(headers=headers), 1702743657)
    assert (err.status, err.code) == (403, "AccessDenied")


@pytest.mark.parametrize(
    "authorization",
    [
        "OSS",
        "OSS ",
        "OSS ak",
        "OSS :sig",
        "OSS ak:",
        "OSS a k:sig",
        "Bearer token",
        "oss ak:sig",
        "OSS2 AccessKeyId:ak,Signature:sig",
        "OSS4-HMAC-SHA256",
        "OSS4-HMAC-SHA256 ",
        "OSS4-HMAC-SHA256 Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/abc,Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/2023-12-16/cn-hangzhou/oss/aliyun_v4_request,Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/s3/aliyun_v4_request,Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/oss/aliyun_v4_request,Signature=00",
        "OSS4-HMAC-SHA256 Credential=/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=00,"
        "Signature=11",
        f"{V4_CREDENTIAL},SignedHeaders=host,Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=,Signature=00",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=range,Signature=00",
    ],
)
def test_malformed_authorization_header_is_invalid(authorization):
    headers = {"authorization": authorization, "x-oss-date": "20231216T162057Z"}
    err = rejected(request(headers=headers), 1702743657)
    assert isinstance(err, BadRequest)
    assert (err.status, err.code) == (400, "InvalidArgument")


def test_v4_malformed_header_says_what_is_missing():
    headers = {"authorization": "OSS4-HMAC-SHA256 Signature=00", "x-oss-date": "20231216T162057Z"}
    assert "Credential is missing" in rejected(request(headers=headers), 1702743657).message


AUTH_PREFIXES = st.sampled_from(
    [
        "",
        "OSS ",
        "OSS ak:",
        "OSS4-HMAC-SHA256 ",
        "OSS4-HMAC-SHA256 Credential=",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=",
    ]
)
DATES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "20231216T162057Z",
            "Sat, 16 Dec 2023 16:20:57 GMT",
            "99991231T235959Z",
            "00000101T000000Z",
        ]
    ),
)
URL_PARAMS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "OSSAccessKeyId",
                "Expires",
                "Signature",
                "x-oss-signature-version",
                "x-oss-credential",
                "x-oss-date",
                "x-oss-expires",
                "x-oss-signature",
                "x-oss-additional-headers",
                "acl",
            ]
        ),
        st.one_of(st.text(max_size=30), DATES, st.just("OSS4-HMAC-SHA256")),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    prefix=AUTH_PREFIXES,
    tail=st.text(max_size=80),
    date=DATES,
    x_oss_date=DATES,
    params=URL_PARAMS,
    use_header=st.booleans(),
)
def test_arbitrary_credentials_only_ever_raise_oss_errors(
    prefix, tail, date, x_oss_date, params, use_header
):
    headers = {"date": date, "x-oss-date": x_oss_date}
    if use_header:
        headers["authorization"] = prefix + tail
    try:
        assert (
            verify_request(request(query=params, headers=headers), SECRETS, now=1702743657) == "ak"
        )
    except OssError as err:
        assert (err.status, type(err)) in {(400, BadRequest), (403, Forbidden)}
