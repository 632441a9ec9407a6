"""Endpoints, regions, credentials and URL building (path vs virtual-hosted, key encoding)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ossemu.client import Callback, Client, ClientError
from ossemu.client.endpoint import Endpoint


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://127.0.0.1:8090", "http://127.0.0.1:8090/bkt/a%20b/c%2Bd"),
        ("127.0.0.1:8090", "http://127.0.0.1:8090/bkt/a%20b/c%2Bd"),
        ("localhost:8090", "http://localhost:8090/bkt/a%20b/c%2Bd"),
        ("http://[::1]:9000", "http://[::1]:9000/bkt/a%20b/c%2Bd"),
        ("oss-cn-hangzhou.aliyuncs.com", "https://bkt.oss-cn-hangzhou.aliyuncs.com/a%20b/c%2Bd"),
        ("http://oss.example.com/", "http://bkt.oss.example.com/a%20b/c%2Bd"),
    ],
)
def test_local_endpoints_are_path_style_and_public_ones_virtual_hosted(endpoint, url):
    assert Endpoint.parse(endpoint).url("bkt", "a b/c+d") == url


def test_path_style_flag_forces_either_way():
    assert Endpoint.parse("http://localhost:8090", path_style=False).url("bkt", "k") == (
        "http://bkt.localhost:8090/k"
    )
    assert Endpoint.parse("oss-cn-beijing.aliyuncs.com", path_style=True).url("bkt", "k") == (
        "https://oss-cn-beijing.aliyuncs.com/bkt/k"
    )


def test_bucket_and_service_urls():
    local = Endpoint.parse("http://127.0.0.1:1")
    assert local.url("bkt") == "http://127.0.0.1:1/bkt/"
    assert local.url() == "http://127.0.0.1:1/"
    assert local.url("bkt", query="uploads") == "http://127.0.0.1:1/bkt/?uploads"


def test_keys_keep_slashes_and_encode_everything_else():
    url = Endpoint.parse("http://127.0.0.1:1").url("bkt", "目录/file name+%?#.txt")
    assert url == ("http://127.0.0.1:1/bkt/%E7%9B%AE%E5%BD%95/file%20name%2B%25%3F%23.txt")


@pytest.mark.parametrize("endpoint", ["", "ftp://host", "http://host/path", "http://host:x"])
def test_bad_endpoints_are_refused(endpoint):
    with pytest.raises(ClientError):
        Endpoint.parse(endpoint)


@pytest.mark.parametrize(
    ("endpoint", "region"),
    [
        ("https://oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
        ("oss-ap-southeast-1-internal.aliyuncs.com", "ap-southeast-1"),
        ("http://127.0.0.1:8090", "cn-hangzhou"),
        ("http://localhost:8090", "cn-hangzhou"),
    ],
)
def test_region_comes_from_the_endpoint(endpoint, region):
    assert Client(endpoint, "ak", "sk").region == region


def test_explicit_region_wins_and_loses_its_oss_prefix():
    assert Client("http://127.0.0.1:1", "ak", "sk", region="oss-eu-west-1").region == "eu-west-1"


def test_v4_on_an_unknown_domain_needs_a_region():
    with pytest.raises(ClientError, match="region"):
        Client("https://files.example.com", "ak", "sk")
    assert Client("https://files.example.com", "ak", "sk", signature_version="v1")


def test_credentials_fall_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("OSS_ACCESS_KEY_ID", "env-ak")
    monkeypatch.setenv("OSS_ACCESS_KEY_SECRET", "env-sk")
    client = Client("http://127.0.0.1:1")
    assert client._transport.signer.credentials.access_key_id == "env-ak"
    assert "env-sk" not in repr(client) + repr(client._transport.signer.credentials)


def test_missing_credentials_are_a_clear_client_error(monkeypatch):
    monkeypatch.delenv("OSS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("OSS_ACCESS_KEY_SECRET", raising=False)
    with pytest.raises(ClientError, match="OSS_ACCESS_KEY_ID"):
        Client("http://127.0.0.1:1")


@pytest.mark.parametrize("name", ["ab", "Upper", "-edge", "under_score", "a" * 64])
def test_invalid_bucket_names_are_refused_without_a_request(name):
    with pytest.raises(ClientError, match="bucket name"):
        Client("http://127.0.0.1:1", "ak", "sk").get_bucket(name)


def test_requests_reach_the_encoded_path_with_a_v4_signature(scripted_server):
    scripted_server.respond = lambda seen: scripted_server.Reply(200, {"ETag": '"E"'})
    with scripted_server.client() as client:
        client.get_bucket("bkt").put_object("dir/a b+c.txt", b"hi")
    seen = scripted_server.requests[0]
    assert seen.path == "/bkt/dir/a%20b%2Bc.txt"
    assert (
        seen.headers["authorization"].startswith("OSS4-HMAC-SHA256 Credential=ak/")
        and "/cn-hangzhou/oss/aliyun_v4_request," in seen.headers["authorization"]
    )
    assert seen.headers["x-oss-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert seen.headers["content-type"] == "text/plain"
    assert seen.headers["content-length"] == "2"


def test_v1_signature_on_request(scripted_server):
    with scripted_server.client(signature_version="v1") as client:
        client.get_bucket("bkt").delete_object("k")
    seen = scripted_server.requests[0]
    assert seen.headers["authorization"].startswith("OSS ak:")
    assert "date" in seen.headers and "x-oss-date" not in seen.headers


def test_sign_url_v4_carries_the_query_signature():
    bucket = Client("http://127.0.0.1:8090", "ak", "sk").get_bucket("bkt")
    url = bucket.sign_url("GET", "a b.txt", 600)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path == "/bkt/a%20b.txt"
    assert query["x-oss-signature-version"] == ["OSS4-HMAC-SHA256"]
    assert query["x-oss-expires"] == ["600"]
    assert query["x-oss-credential"][0].startswith("ak/")
    assert len(query["x-oss-signature"][0]) == 64


def test_sign_url_v1_with_a_callback_puts_it_in_the_query():
    bucket = Client("http://127.0.0.1:8090", "ak", "sk", signature_version="v1").get_bucket("bkt")
    callback = Callback(url="http://127.0.0.1:23450/cb")
    query = parse_qs(
        urlsplit(bucket.sign_url("PUT", "k", callback=callback, callback_vars={"a": 1})).query
    )
    assert set(query) >= {"OSSAccessKeyId", "Expires", "Signature", "callback", "callback-var"}
    assert query["callback"] == [callback.serialize()]


def test_sign_url_refuses_v4_expiry_beyond_seven_days():
    bucket = Client("http://127.0.0.1:8090", "ak", "sk").get_bucket("bkt")
    with pytest.raises(ClientError, match="604800"):
        bucket.sign_url("GET", "k", 604801)
