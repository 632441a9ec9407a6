"""Non-ASCII header values (``x-oss-meta-u: 测试`` as UTF-8 bytes): V1 and V4 signatures are
checked against the bytes as sent, and GET/HEAD give the same bytes back. Through oss2 (V1, V4),
alibabacloud-oss-v2 (its presigned V4 and V1 URLs: its transport cannot send non-latin-1 text
itself), ossemu's own client and raw requests."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from ossemu.client import Client
from ossemu.client.auth import Credentials, Signer
from tests.support import raw_exchange, target

TEXT = "测试 café"
SENT = TEXT.encode()


def wire_bytes(header_value: str) -> bytes:
    """What the server sent, from a value http.client read as latin-1."""
    return header_value.encode("latin-1")


@pytest.mark.parametrize("auth", [oss2.Auth, oss2.AuthV4], ids=["v1", "v4"])
def test_oss2_non_ascii_metadata_is_signed_stored_and_returned_as_utf8(
    oss_emulator, oss_bucket, auth
):
    bucket = oss2.Bucket(
        auth(oss_emulator.access_key_id, oss_emulator.access_key_secret),
        oss_emulator.url,
        oss_bucket.name,
        region="cn-hangzhou",
    )
    bucket.put_object("m.txt", b"x", headers={"x-oss-meta-u": SENT})
    assert wire_bytes(bucket.head_object("m.txt").headers["x-oss-meta-u"]) == SENT
    assert wire_bytes(bucket.get_object("m.txt").headers["x-oss-meta-u"]) == SENT


@pytest.mark.parametrize("version", ["v4", "v1"])
def test_alibabacloud_oss_v2_presigned_put_with_non_ascii_metadata(
    oss_emulator, oss_bucket, version
):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region, cfg.endpoint, cfg.signature_version = "cn-hangzhou", oss_emulator.url, version
    client = oss.Client(cfg)
    request = oss.PutObjectRequest(bucket=oss_bucket.name, key="v2.txt", metadata={"u": TEXT})
    signed = client.presign(request)
    headers = {name: value.encode() for name, value in signed.signed_headers.items()}
    put = requests.put(signed.url, data=b"x", headers=headers, timeout=10)
    assert put.status_code == 200, put.text
    head = client.head_object(oss.HeadObjectRequest(bucket=oss_bucket.name, key="v2.txt"))
    assert wire_bytes(head.metadata["u"]) == SENT


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_ossemu_client_round_trips_non_ascii_metadata(oss_emulator, oss_bucket, version):
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        signature_version=version,
    ) as client:
        bucket = client.get_bucket(oss_bucket.name)
        bucket.put_object("c.txt", b"x", metadata={"u": TEXT})
        assert bucket.head_object("c.txt").metadata == {"u": TEXT}


def raw_put(oss_emulator, bucket: str, key: str, version: str, headers: dict[str, str]):
    """A signed PUT whose header text goes out as UTF-8 bytes; the signer signs that text."""
    credentials = Credentials(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    sent = {**headers, "Content-Length": "1"}
    Signer(credentials, version, "cn-hangzhou").sign_headers("PUT", sent, bucket, key, [])
    return raw_exchange(oss_emulator.port, head("PUT", bucket, key, sent) + b"x")


def head(method: str, bucket: str, key: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target(bucket, key)} HTTP/1.1", "Host: x", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_raw_utf8_headers_verify_and_come_back_byte_for_byte_on_get_and_head(
    oss_emulator, oss_bucket, version
):
    disposition = 'attachment; filename="报告.pdf"'
    put = raw_put(
        oss_emulator,
        oss_bucket.name,
        "r.txt",
        version,
        {"x-oss-meta-u": TEXT, "Content-Disposition": disposition},
    )
    assert put.status == 200, put.body
    credentials = Credentials(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    for method in ("GET", "HEAD"):
        signed: dict[str, str] = {}
        Signer(credentials, version, "cn-hangzhou").sign_headers(
            method, signed, oss_bucket.name, "r.txt", []
        )
        got = raw_exchange(oss_emulator.port, head(method, oss_bucket.name, "r.txt", signed))
        assert got.status == 200, (method, got.body)
        assert wire_bytes(got.headers["x-oss-meta-u"]) == SENT, method
        assert wire_bytes(got.headers["content-disposition"]) == disposition.encode(), method


def test_a_signature_over_other_bytes_than_those_sent_is_refused(oss_emulator, oss_bucket):
    """A client that signed the latin-1 reading of the UTF-8 bytes signed something else."""
    credentials = Credentials(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    misread = SENT.decode("latin-1")
    signed = {"x-oss-meta-u": misread, "Content-Length": "1"}
    Signer(credentials, "v1").sign_headers("PUT", signed, oss_bucket.name, "s.txt", [])
    request = head("PUT", oss_bucket.name, "s.txt", signed).replace(misread.encode(), SENT)
    assert SENT in request
    response = raw_exchange(oss_emulator.port, request + b"x")
    assert (response.status, response.code) == (403, "SignatureDoesNotMatch")
