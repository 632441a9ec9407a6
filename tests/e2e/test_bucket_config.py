"""Bucket configurations set and read back through oss2 and alibabacloud-oss-v2 (raw requests
for the refusals): lifecycle, referer, website, logging, encryption, policy, request payment
and versioning status."""

from __future__ import annotations

import json
import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2 import models as m

POLICY = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["oss:GetObject"],
            "Principal": ["*"],
            "Resource": ["acs:oss:*:*:bucket/*"],
        }
    ],
}


@pytest.fixture(params=["v1", "v4"])
def oss2_bucket(request, oss_emulator):
    auth = (oss2.Auth if request.param == "v1" else oss2.AuthV4)(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    bucket = oss2.Bucket(
        auth, oss_emulator.url, f"cfg-{uuid.uuid4().hex[:12]}", region="cn-hangzhou"
    )
    bucket.create_bucket()
    yield bucket
    oss_emulator.services.storage.drop_bucket(bucket.bucket_name)


@pytest.fixture
def v2(oss_emulator):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        oss_emulator.access_key_id, oss_emulator.access_key_secret
    )
    cfg.region, cfg.endpoint = "cn-hangzhou", oss_emulator.url
    client = oss.Client(cfg)
    name = f"cfg-v2-{uuid.uuid4().hex[:10]}"
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    oss_emulator.services.storage.drop_bucket(name)


def test_oss2_lifecycle_round_trip(oss2_bucket):
    rules = [
        m.LifecycleRule(
            "logs",
            "logs/",
            status=m.LifecycleRule.ENABLED,
            expiration=m.LifecycleExpiration(days=30),
        ),
        m.LifecycleRule(
            "tmp",
            "tmp/",
            status=m.LifecycleRule.DISABLED,
            abort_multipart_upload=m.AbortMultipartUpload(days=7),
        ),
    ]
    oss2_bucket.put_bucket_lifecycle(m.BucketLifecycle(rules))
    got = oss2_bucket.get_bucket_lifecycle().rules
    assert [(r.id, r.prefix, r.status) for r in got] == [
        ("logs", "logs/", "Enabled"),
        ("tmp", "tmp/", "Disabled"),
    ]
    assert got[0].expiration.days == 30 and got[1].abort_multipart_upload.days == 7
    oss2_bucket.delete_bucket_lifecycle()
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        oss2_bucket.get_bucket_lifecycle()


def test_oss2_referer_website_logging(oss2_bucket):
    assert oss2_bucket.get_bucket_referer().allow_empty_referer is True  # OSS's default
    oss2_bucket.put_bucket_referer(
        m.BucketReferer(False, ["https://app.example.com", "*.example.org"])
    )
    referer = oss2_bucket.get_bucket_referer()
    assert referer.allow_empty_referer is False
    assert referer.referers == ["https://app.example.com", "*.example.org"]

    with pytest.raises(oss2.exceptions.NoSuchWebsite):
        oss2_bucket.get_bucket_website()
    oss2_bucket.put_bucket_website(m.BucketWebsite("index.html", "error.html"))
    website = oss2_bucket.get_bucket_website()
    assert (website.index_file, website.error_file) == ("index.html", "error.html")
    oss2_bucket.delete_bucket_website()
    with pytest.raises(oss2.exceptions.NoSuchWebsite):
        oss2_bucket.get_bucket_website()

    assert oss2_bucket.get_bucket_logging().target_bucket == ""
    oss2_bucket.put_bucket_logging(m.BucketLogging(oss2_bucket.bucket_name, "access/"))
    logging = oss2_bucket.get_bucket_logging()
    assert (logging.target_bucket, logging.target_prefix) == (oss2_bucket.bucket_name, "access/")
    oss2_bucket.delete_bucket_logging()
    assert oss2_bucket.get_bucket_logging().target_bucket == ""


def test_oss2_encryption_policy_payment_versioning(oss2_bucket):
    with pytest.raises(oss2.exceptions.NoSuchServerSideEncryptionRule):
        oss2_bucket.get_bucket_encryption()
    oss2_bucket.put_bucket_encryption(m.ServerSideEncryptionRule("KMS", "key-1"))
    rule = oss2_bucket.get_bucket_encryption()
    assert (rule.sse_algorithm, rule.kms_master_keyid) == ("KMS", "key-1")
    oss2_bucket.delete_bucket_encryption()

    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy):
        oss2_bucket.get_bucket_policy()
    oss2_bucket.put_bucket_policy(json.dumps(POLICY))
    assert json.loads(oss2_bucket.get_bucket_policy().policy) == POLICY
    oss2_bucket.delete_bucket_policy()

    assert oss2_bucket.get_bucket_request_payment().payer == "BucketOwner"
    oss2_bucket.put_bucket_request_payment("Requester")
    assert oss2_bucket.get_bucket_request_payment().payer == "Requester"

    assert oss2_bucket.get_bucket_versioning().status is None
    oss2_bucket.put_bucket_versioning(m.BucketVersioningConfig("Enabled"))
    assert oss2_bucket.get_bucket_versioning().status == "Enabled"
    oss2_bucket.put_bucket_versioning(m.BucketVersioningConfig("Suspended"))
    assert oss2_bucket.get_bucket_versioning().status == "Suspended"
