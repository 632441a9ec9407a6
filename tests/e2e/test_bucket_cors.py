"""Bucket CORS through the official SDKs and raw HTTP: rules round-trip, the unsigned OPTIONS
preflight is answered from them, and every actual response to a matching Origin (errors and
203s included) carries the CORS headers a page needs to read the ETag or the callback answer."""

from __future__ import annotations

import json
import subprocess
import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from ossemu.client import Callback
from ossemu.emulator.protocol.cors import FORBIDDEN

PAGE = "http://localhost:3000"
RULE = oss2.models.CorsRule(
    allowed_origins=["http://localhost:*"],
    allowed_methods=["PUT", "GET", "POST"],
    allowed_headers=["x-oss-meta-*", "Content-Type"],
    expose_headers=["ETag", "x-oss-request-id"],
    max_age_seconds=600,
)


def oss2_of(oss_emulator, name: str) -> oss2.Bucket:
    auth = oss2.AuthV4(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    return oss2.Bucket(auth, oss_emulator.url, name, region="cn-hangzhou")


@pytest.fixture
def oss2_bucket(oss_emulator):
    bucket = oss2_of(oss_emulator, f"cors-{uuid.uuid4().hex[:10]}")
    bucket.create_bucket()
    yield bucket
    oss_emulator.services.storage.drop_bucket(bucket.bucket_name)


def put_rules(oss_emulator, name: str, *rules: oss2.models.CorsRule, vary=None) -> None:
    """The bucket's CORS rules, set through oss2's put_bucket_cors."""
    oss2_of(oss_emulator, name).put_bucket_cors(
        oss2.models.BucketCors(list(rules) or [RULE], response_vary=vary)
    )


def test_oss2_put_get_delete_bucket_cors_round_trip(oss2_bucket):
    rule = oss2.models.CorsRule(
        allowed_origins=["http://localhost:*", "https://*.example.com"],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["x-oss-meta-*"],
        expose_headers=["ETag", "x-oss-request-id"],
        max_age_seconds=100,
    )
    oss2_bucket.put_bucket_cors(oss2.models.BucketCors([rule]))
    got = oss2_bucket.get_bucket_cors().rules
    assert len(got) == 1
    assert got[0].allowed_origins == ["http://localhost:*", "https://*.example.com"]
    assert got[0].allowed_methods == ["GET", "PUT"]
    assert got[0].allowed_headers == ["x-oss-meta-*"]
    assert got[0].expose_headers == ["ETag", "x-oss-request-id"]
    assert got[0].max_age_seconds == 100
    oss2_bucket.delete_bucket_cors()
    with pytest.raises(oss2.exceptions.NoSuchCors):
        oss2_bucket.get_bucket_cors()
    oss2_bucket.delete_bucket_cors()  # deleting nothing succeeds, as on OSS


def test_alibabacloud_oss_v2_bucket_cors_round_trip_and_option_object(oss_emulator, oss_client):
    name = f"cors-v2-{uuid.uuid4().hex[:8]}"
    oss_client.create_bucket(name)
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region, cfg.endpoint = "cn-hangzhou", oss_emulator.url
    client = oss.Client(cfg)
    try:
        client.put_bucket_cors(
            oss.PutBucketCorsRequest(
                bucket=name,
                cors_configuration=oss.CORSConfiguration(
                    cors_rules=[
                        oss.CORSRule(
                            allowed_origins=["*"],
                            allowed_methods=["PUT", "POST"],
                            allowed_headers=["*"],
                            expose_headers=["ETag"],
                            max_age_seconds=30,
                        )
                    ],
                    response_vary=False,
                ),
            )
        )
        got = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=name))
        rule = got.cors_configuration.cors_rules[0]
        assert (rule.allowed_origins, rule.allowed_methods) == (["*"], ["PUT", "POST"])
        assert got.cors_configuration.response_vary is False
        answer = client.option_object(
            oss.OptionObjectRequest(
                bucket=name,
                key="any/key",
                origin="http://www.example.com",
                access_control_request_method="PUT",
                access_control_request_headers="x-oss-meta-a",
            )
        )
        assert answer.access_control_allow_origin == "*"
        assert answer.access_control_allow_methods == "PUT, POST"
        assert answer.access_control_max_age == 30
    finally:
        oss_emulator.services.storage.drop_bucket(name)


def preflight(url: str, origin: str, method: str, headers: str | None = None) -> requests.Response:
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=sent)


def test_preflight_is_answered_from_the_rules_without_a_signature(oss_emulator, oss_bucket):
    put_rules(oss_emulator, oss_bucket.name)
    url = f"{oss_emulator.url}/{oss_bucket.name}/uploads/a.png?x-oss-signature=forged"
    ok = preflight(url, "http://localhost:5173", "PUT", "Content-Type, X-OSS-Meta-Author")
    assert ok.status_code == 200 and ok.content == b""
    assert ok.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert ok.headers["Access-Control-Allow-Methods"] == "PUT, GET, POST"
    assert ok.headers["Access-Control-Allow-Headers"] == "content-type, x-oss-meta-author"
    assert ok.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    assert ok.headers["Access-Control-Max-Age"] == "600"
    assert "Allow" not in ok.headers  # no longer Flask's own OPTIONS answer

    for origin, method, headers in [
        ("http://evil.example", "PUT", None),  # origin not in the rules
        ("http://localhost:5173", "DELETE", None),  # method not allowed
        ("http://localhost:5173", "PUT", "authorization"),  # header not allowed
        ("https://localhost:5173", "PUT", None),  # the scheme is part of the origin
    ]:
        refused = preflight(url, origin, method, headers)
        assert refused.status_code == 403, (origin, method, headers)
        assert b"<Code>AccessForbidden</Code>" in refused.content
        assert FORBIDDEN.encode() in refused.content
        assert not any(h.lower().startswith("access-control-") for h in refused.headers)


def test_preflight_without_rules_or_bucket(oss_emulator, oss_bucket):
    url = f"{oss_emulator.url}/{oss_bucket.name}/k"
    none = preflight(url, PAGE, "PUT")
    assert (none.status_code, b"AccessForbidden" in none.content) == (403, True)
    missing = preflight(f"{oss_emulator.url}/no-such-bucket-here/k", PAGE, "PUT")
    assert (missing.status_code, b"NoSuchBucket" in missing.content) == (404, True)
    put_rules(oss_emulator, oss_bucket.name)
    bare = requests.options(url)  # neither Origin nor Access-Control-Request-Method
    assert (bare.status_code, b"AccessForbidden" in bare.content) == (403, True)


def test_actual_responses_carry_cors_headers_for_a_matching_origin(oss_emulator, oss_bucket):
    put_rules(oss_emulator, oss_bucket.name)
    oss_bucket.put_object("k", b"hello")
    url = f"{oss_emulator.url}/{oss_bucket.name}/k"
    signed_get = oss_bucket.sign_url("GET", "k", 60)

    ok = requests.get(signed_get, headers={"Origin": PAGE})
    assert ok.status_code == 200 and ok.content == b"hello"
    assert ok.headers["Access-Control-Allow-Origin"] == PAGE
    assert ok.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    assert ok.headers["Access-Control-Allow-Methods"] == "PUT, GET, POST"
    assert "Vary" not in ok.headers  # ResponseVary is off

    denied = requests.get(url, headers={"Origin": PAGE})  # unsigned: an error, still readable
    assert denied.status_code == 403
    assert denied.headers["Access-Control-Allow-Origin"] == PAGE
    missing = requests.get(oss_bucket.sign_url("GET", "nope", 60), headers={"Origin": PAGE})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == PAGE

    other = requests.get(signed_get, headers={"Origin": "http://evil.example"})
    assert other.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h in other.headers)
    delete = requests.delete(oss_bucket.sign_url("DELETE", "k", 60), headers={"Origin": PAGE})
    assert delete.status_code == 204 and "Access-Control-Allow-Origin" not in delete.headers


def test_callback_answers_and_203s_carry_cors_headers(oss_emulator, oss_bucket, callback_receiver):
    put_rules(oss_emulator, oss_bucket.name)
    cb = Callback(url=callback_receiver.url, body="object=${object}")
    url = oss_bucket.sign_url("PUT", "cb.txt", 60, callback=cb)
    ok = requests.put(url, data=b"x", headers={"Origin": PAGE})
    assert ok.status_code == 200 and ok.json() == {"Status": "OK"}
    assert ok.headers["Access-Control-Allow-Origin"] == PAGE
    callback_receiver.respond_with(500)
    failed = requests.put(url, data=b"y", headers={"Origin": PAGE})
    assert failed.status_code == 203 and b"CallbackFailed" in failed.content
    assert failed.headers["Access-Control-Allow-Origin"] == PAGE


def test_response_vary_puts_vary_origin_on_every_response(oss_emulator, oss_bucket):
    put_rules(oss_emulator, oss_bucket.name, vary=True)
    oss_bucket.put_object("k", b"v")
    signed = oss_bucket.sign_url("GET", "k", 60)
    assert requests.get(signed).headers["Vary"] == "Origin"  # no Origin at all
    assert requests.get(signed, headers={"Origin": PAGE}).headers["Vary"] == "Origin"
    ok = preflight(f"{oss_emulator.url}/{oss_bucket.name}/k", PAGE, "GET")
    assert ok.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    ("rule", "vary", "code"),
    [
        (
            oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["PATCH"]),
            None,
            "InvalidArgument",
        ),
        (oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=[]), None, "MalformedXML"),
        (oss2.models.CorsRule(allowed_origins=[], allowed_methods=["GET"]), None, "MalformedXML"),
        (
            oss2.models.CorsRule(
                allowed_origins=["*"], allowed_methods=["GET"], expose_headers=["*"]
            ),
            None,
            "InvalidArgument",
        ),
        (
            oss2.models.CorsRule(allowed_origins=["http://*.*.a"], allowed_methods=["GET"]),
            None,
            "InvalidArgument",
        ),
        (
            oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["GET"]),
            "maybe",
            "InvalidArgument",
        ),
    ],
    ids=["bad-method", "no-method", "no-origin", "star-expose", "two-stars", "bad-vary"],
)
def test_put_bucket_cors_refuses_what_oss_refuses_and_keeps_the_old_rules(
    oss_emulator, oss2_bucket, rule, vary, code
):
    put_rules(oss_emulator, oss2_bucket.bucket_name)
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        oss2_bucket.put_bucket_cors(oss2.models.BucketCors([rule], response_vary=vary))
    assert (refused.value.status, refused.value.code) == (400, code)
    assert oss2_bucket.get_bucket_cors().rules[0].allowed_origins == ["http://localhost:*"]


def test_put_bucket_cors_allows_at_most_ten_rules(oss2_bucket):
    rules = [oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["GET"])] * 11
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        oss2_bucket.put_bucket_cors(oss2.models.BucketCors(rules))
    assert refused.value.code == "InvalidArgument"
    oss2_bucket.put_bucket_cors(oss2.models.BucketCors(rules[:10]))
    assert len(oss2_bucket.get_bucket_cors().rules) == 10


def test_bucket_cors_needs_the_owner_and_an_existing_bucket(oss_emulator, oss2_bucket):
    url = f"{oss_emulator.url}/{oss2_bucket.bucket_name}?cors"
    assert requests.get(url).status_code == 403
    assert requests.put(url, data=b"<CORSConfiguration/>").status_code == 403
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2_of(oss_emulator, "no-such-bucket-cors").get_bucket_cors()


ALI_OSS_CORS = """
const OSS = require('ali-oss');
const client = new OSS({ accessKeyId: process.env.AK, accessKeySecret: process.env.SK,
  bucket: process.env.BUCKET, endpoint: process.env.ENDPOINT, sldEnable: true });
(async () => {
  await client.putBucketCORS(process.env.BUCKET, [{
    allowedOrigin: ['http://localhost:*', 'http://127.0.0.1:*'],
    allowedMethod: ['GET', 'PUT', 'POST'],
    allowedHeader: '*',
    exposeHeader: ['ETag', 'x-oss-request-id'],
    maxAgeSeconds: '60',
  }]);
  const got = await client.getBucketCORS(process.env.BUCKET);
  console.log(JSON.stringify(got.rules));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_ali_oss_put_and_get_bucket_cors_round_trip(oss_emulator, oss_bucket, ali_oss):
    node, env = ali_oss
    env = {
        **env,
        "AK": oss_emulator.access_key_id,
        "SK": oss_emulator.access_key_secret,
        "BUCKET": oss_bucket.name,
        "ENDPOINT": oss_emulator.url.replace("127.0.0.1", "localhost"),
    }
    result = subprocess.run(
        [node, "-e", ALI_OSS_CORS], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    (rule,) = json.loads(result.stdout)
    assert rule["allowedOrigin"] == ["http://localhost:*", "http://127.0.0.1:*"]
    assert rule["allowedMethod"] == ["GET", "PUT", "POST"]
    assert rule["allowedHeader"] == "*" and rule["maxAgeSeconds"] == "60"
    assert rule["exposeHeader"] == ["ETag", "x-oss-request-id"]
    ok = preflight(f"{oss_emulator.url}/{oss_bucket.name}/k", "http://127.0.0.1:8000", "PUT", "x")
    assert ok.status_code == 200
