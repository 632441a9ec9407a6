"""OSS accepts temporary credentials where each SDK sends the token, within the session policy.

Credentials come from the emulator's own STS (``oss_sts_credentials``), confined to
``<bucket>/user-42/*``. Each SDK uploads in scope, is refused out of scope with 403
AccessDenied, and works through presigned URLs; an expired token is refused with
SecurityTokenExpired once the emulator's clock has moved past it.
"""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from ossemu import AccessDenied, Client, ServerError

PREFIX = "user-42/"
DENIED = "Access denied by authorizer's policy."


@pytest.fixture
def scoped(oss_sts_credentials, oss_bucket):
    actions = ["oss:PutObject", "oss:GetObject", "oss:ListObjects"]
    return oss_sts_credentials(PREFIX, actions=actions, bucket=oss_bucket.name)


def session_client(oss_emulator, creds, version: str) -> Client:
    """Our client holding the session's key, secret and SecurityToken."""
    return Client(
        oss_emulator.url,
        creds.access_key_id,
        creds.access_key_secret,
        security_token=creds.security_token,
        signature_version=version,
    )


def stored(bucket, key: str) -> bool:
    return any(o.key == key for o in bucket.list_objects(key))


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_our_client_with_security_token_uploads_in_scope_only(
    oss_emulator, oss_bucket, scoped, version
):
    client = session_client(oss_emulator, scoped, version)
    bucket = client.get_bucket(oss_bucket.name)
    bucket.put_object(f"{PREFIX}a.txt", b"mine")
    assert bucket.get_object(f"{PREFIX}a.txt") == b"mine"
    assert [o.key for o in bucket.list_objects(PREFIX)] == [f"{PREFIX}a.txt"]
    with pytest.raises(AccessDenied) as info:
        bucket.put_object("user-43/a.txt", b"theirs")
    assert info.value.message == DENIED
    with pytest.raises(AccessDenied):
        list(bucket.list_objects("user-43/"))
    with pytest.raises(AccessDenied):
        list(bucket.list_objects())
    with pytest.raises(AccessDenied):  # DeleteObject was not granted
        bucket.delete_object(f"{PREFIX}a.txt")
    assert not stored(oss_bucket, "user-43/a.txt")
    assert stored(oss_bucket, f"{PREFIX}a.txt")


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_our_client_presigned_urls_carry_the_token(oss_emulator, oss_bucket, scoped, version):
    client = session_client(oss_emulator, scoped, version)
    bucket = client.get_bucket(oss_bucket.name)
    put_url = bucket.sign_url("PUT", f"{PREFIX}via-url.txt", 600)
    assert ("security-token=" if version == "v1" else "x-oss-security-token=") in put_url
    assert requests.put(put_url, data=b"by url").status_code == 200
    get_url = bucket.sign_url("GET", f"{PREFIX}via-url.txt", 600)
    assert requests.get(get_url).content == b"by url"
    outside = requests.put(bucket.sign_url("PUT", "elsewhere.txt", 600), data=b"x")
    assert outside.status_code == 403 and "<Code>AccessDenied</Code>" in outside.text
    assert not stored(oss_bucket, "elsewhere.txt")


def test_oss2_sts_auth_v1_and_provider_auth_v4(oss_emulator, oss_bucket, scoped):
    v1 = oss2.StsAuth(scoped.access_key_id, scoped.access_key_secret, scoped.security_token)
    provider = oss2.credentials.StaticCredentialsProvider(
        scoped.access_key_id, scoped.access_key_secret, scoped.security_token
    )
    v4 = oss2.ProviderAuthV4(provider)
    for name, auth in (("v1", v1), ("v4", v4)):
        bucket = oss2.Bucket(auth, oss_emulator.url, oss_bucket.name, region="cn-hangzhou")
        bucket.put_object(f"{PREFIX}{name}.txt", name.encode())
        assert bucket.get_object(f"{PREFIX}{name}.txt").read() == name.encode()
        with pytest.raises(oss2.exceptions.AccessDenied):
            bucket.put_object(f"other/{name}.txt", b"no")
        url = bucket.sign_url("GET", f"{PREFIX}{name}.txt", 600)
        assert requests.get(url).content == name.encode()
        refused = requests.put(bucket.sign_url("PUT", f"other/{name}.txt", 600), data=b"x")
        assert refused.status_code == 403
    assert not stored(oss_bucket, "other/v1.txt") and not stored(oss_bucket, "other/v4.txt")


def test_oss2_multipart_needs_put_object_and_list_parts_its_own_action(
    oss_emulator, oss_bucket, oss_sts_credentials
):
    creds = oss_sts_credentials(PREFIX, actions=["oss:PutObject"], bucket=oss_bucket.name)
    auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token)
    bucket = oss2.Bucket(auth, oss_emulator.url, oss_bucket.name)
    key = f"{PREFIX}big.bin"
    upload_id = bucket.init_multipart_upload(key).upload_id
    part = bucket.upload_part(key, upload_id, 1, b"x" * 1024)
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.list_parts(key, upload_id)
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.abort_multipart_upload(key, upload_id)
    bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert stored(oss_bucket, key)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss_v2_static_provider_with_token(oss_emulator, oss_bucket, scoped, version):
    cfg = oss.config.load_default()
    cfg.signature_version = version  # its V1 signer sends the token as "security-token"
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        scoped.access_key_id, scoped.access_key_secret, scoped.security_token
    )
    cfg.region = "cn-hangzhou"
    cfg.endpoint = oss_emulator.url
    client = oss.Client(cfg)
    client.put_object(oss.PutObjectRequest(bucket=oss_bucket.name, key=f"{PREFIX}v2", body=b"v2"))
    got = client.get_object(oss.GetObjectRequest(bucket=oss_bucket.name, key=f"{PREFIX}v2"))
    assert got.body.read() == b"v2"
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.put_object(oss.PutObjectRequest(bucket=oss_bucket.name, key="x/v2", body=b"no"))
    assert "AccessDenied" in str(info.value)
    url = client.presign(oss.GetObjectRequest(bucket=oss_bucket.name, key=f"{PREFIX}v2")).url
    assert ("security-token=" if version == "v1" else "x-oss-security-token=") in url
    assert requests.get(url).content == b"v2"
    assert not stored(oss_bucket, "x/v2")


def test_expired_token_is_refused_by_every_sdk(oss_emulator, oss_bucket, oss_sts_credentials):
    creds = oss_sts_credentials(duration_seconds=900)
    ours = Client(
        oss_emulator.url,
        creds.access_key_id,
        creds.access_key_secret,
        security_token=creds.security_token,
    ).get_bucket(oss_bucket.name)
    auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token)
    theirs = oss2.Bucket(auth, oss_emulator.url, oss_bucket.name)
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        creds.access_key_id, creds.access_key_secret, creds.security_token
    )
    cfg.region, cfg.endpoint = "cn-hangzhou", oss_emulator.url
    v2 = oss.Client(cfg)
    url = ours.sign_url("PUT", "late-url.txt", 3600)
    ours.put_object("early.txt", b"in time")
    oss_emulator.advance_clock(901)
    with pytest.raises(oss.exceptions.OperationError) as v2_info:
        v2.put_object(oss.PutObjectRequest(bucket=oss_bucket.name, key="late3", body=b"x"))
    assert "SecurityTokenExpired" in str(v2_info.value)
    with pytest.raises(ServerError) as info:
        ours.put_object("late.txt", b"too late")
    assert (info.value.status, info.value.code) == (403, "SecurityTokenExpired")
    with pytest.raises(oss2.exceptions.ServerError) as oss2_info:
        theirs.put_object("late2.txt", b"too late")
    assert oss2_info.value.code == "SecurityTokenExpired"
    late = requests.put(url, data=b"x")
    assert late.status_code == 403 and "SecurityTokenExpired" in late.text
    assert [o.key for o in oss_bucket.list_objects()] == ["early.txt"]


def test_multi_delete_and_copy_are_checked_key_by_key(
    oss_emulator, oss_bucket, oss_sts_credentials
):
    oss_bucket.put_object(f"{PREFIX}a", b"a")
    oss_bucket.put_object("shared/b", b"b")
    creds = oss_sts_credentials(
        PREFIX,
        actions=["oss:PutObject", "oss:GetObject", "oss:DeleteObject"],
        bucket=oss_bucket.name,
    )
    auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token)
    bucket = oss2.Bucket(auth, oss_emulator.url, oss_bucket.name)
    with pytest.raises(oss2.exceptions.AccessDenied):  # one key outside: nothing is deleted
        bucket.batch_delete_objects([f"{PREFIX}a", "shared/b"])
    with pytest.raises(oss2.exceptions.AccessDenied):  # may write the target, not read the source
        bucket.copy_object(oss_bucket.name, "shared/b", f"{PREFIX}copy")
    bucket.copy_object(oss_bucket.name, f"{PREFIX}a", f"{PREFIX}copy")
    assert bucket.batch_delete_objects([f"{PREFIX}a", f"{PREFIX}copy"]).deleted_keys
    assert [o.key for o in oss_bucket.list_objects()] == ["shared/b"]


def test_explicit_deny_in_the_session_policy_wins(oss_emulator, oss_bucket, oss_sts_credentials):
    import json

    policy = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "oss:*", "Resource": "acs:oss:*:*:*"},
                {
                    "Effect": "Deny",
                    "Action": ["oss:PutObject"],
                    "Resource": f"acs:oss:*:*:{oss_bucket.name}/locked/*",
                },
            ],
        }
    )
    creds = oss_sts_credentials(policy=policy)
    client = Client(
        oss_emulator.url,
        creds.access_key_id,
        creds.access_key_secret,
        security_token=creds.security_token,
    )
    bucket = client.get_bucket(oss_bucket.name)
    bucket.put_object("open/x", b"1")
    assert [o.key for o in bucket.list_objects()] == ["open/x"]
    with pytest.raises(AccessDenied):
        bucket.put_object("locked/x", b"1")
    assert [b.name for b in client.list_buckets()]  # oss:* also covers ListBuckets


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_browser_form_signed_with_temporary_credentials_uploads_in_scope_only(
    oss_emulator, oss_bucket, scoped, version
):
    client = session_client(oss_emulator, scoped, version)
    bucket = client.get_bucket(oss_bucket.name)
    mine = bucket.post_object_form(f"{PREFIX}${{filename}}", expires=600)
    assert mine.fields["x-oss-security-token"] == scoped.security_token
    bucket.post_object(mine, b"form bytes", filename="photo.jpg")
    assert oss_bucket.get_object(f"{PREFIX}photo.jpg") == b"form bytes"

    theirs = bucket.post_object_form("user-43/photo.jpg", expires=600)
    with pytest.raises(AccessDenied) as info:
        bucket.post_object(theirs, b"x", filename="photo.jpg")
    assert info.value.message == DENIED
    assert not stored(oss_bucket, "user-43/photo.jpg")

    late = bucket.post_object_form(f"{PREFIX}late.jpg", expires=7200)  # outlives the token
    oss_emulator.advance_clock(3601)  # past the session's expiry: the token is refused
    with pytest.raises(ServerError) as expired:
        bucket.post_object(late, b"late", filename="late.jpg")
    assert (expired.value.status, expired.value.code) == (403, "SecurityTokenExpired")
    assert not stored(oss_bucket, f"{PREFIX}late.jpg")
