"""Bucket configurations set and read back through oss2 and alibabacloud-oss-v2 (raw requests
for the refusals): lifecycle, referer, website, logging, encryption, policy, request payment
and versioning status."""

from __future__ import annotations

import datetime
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


def test_v2_lifecycle_and_versioning_round_trip(v2):
    client, name = v2
    rule = oss.LifecycleRule(
        id="old",
        prefix="archive/",
        status="Enabled",
        expiration=oss.LifecycleRuleExpiration(
            created_before_date=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        ),
    )
    client.put_bucket_lifecycle(
        oss.PutBucketLifecycleRequest(
            bucket=name, lifecycle_configuration=oss.LifecycleConfiguration(rules=[rule])
        )
    )
    got = client.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=name))
    (back,) = got.lifecycle_configuration.rules
    assert (back.id, back.prefix, back.status) == ("old", "archive/", "Enabled")
    assert back.expiration.created_before_date.year == 2020
    client.put_bucket_versioning(
        oss.PutBucketVersioningRequest(
            bucket=name, versioning_configuration=oss.VersioningConfiguration(status="Enabled")
        )
    )
    got = client.get_bucket_versioning(oss.GetBucketVersioningRequest(bucket=name))
    assert got.version_status == "Enabled"


def test_v2_policy_round_trip(v2):
    client, name = v2
    client.put_bucket_policy(oss.PutBucketPolicyRequest(bucket=name, body=json.dumps(POLICY)))
    got = client.get_bucket_policy(oss.GetBucketPolicyRequest(bucket=name))
    assert json.loads(got.body) == POLICY


def put_config(bucket: oss2.Bucket, sub: str, body: bytes) -> oss2.models.RequestResult:
    """A signed PUT ?<sub> with the body as given (oss2 signs the sub-resource)."""
    return oss2.models.RequestResult(
        bucket._do("PUT", bucket.bucket_name, "", params={sub: ""}, data=body)
    )


def keys(bucket: oss2.Bucket) -> list[str]:
    return [o.key for o in oss2.ObjectIterator(bucket)]


def test_lifecycle_expires_objects_as_the_clock_moves(oss_emulator, oss2_bucket):
    oss2_bucket.put_object("logs/old.txt", b"old")
    oss2_bucket.put_object("keep/old.txt", b"kept: another prefix")
    put_config(oss2_bucket, "lifecycle", LIFECYCLE_30_DAYS)
    oss_emulator.advance_clock(29 * DAY)
    assert oss2_bucket.get_object("logs/old.txt").read() == b"old"
    oss_emulator.advance_clock(2 * DAY)
    oss2_bucket.put_object("logs/new.txt", b"new")  # written after the move: not due yet
    assert keys(oss2_bucket) == ["keep/old.txt", "logs/new.txt"]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        oss2_bucket.get_object("logs/old.txt")


def test_lifecycle_expires_by_created_before_date(oss2_bucket):
    oss2_bucket.put_object("logs/a.txt", b"a")
    rule = m.LifecycleRule(
        "past",
        "logs/",
        status="Enabled",
        expiration=m.LifecycleExpiration(created_before_date=datetime.date(2999, 1, 1)),
    )
    oss2_bucket.put_bucket_lifecycle(m.BucketLifecycle([rule]))
    assert keys(oss2_bucket) == []


def test_lifecycle_aborts_stale_multipart_uploads(oss_emulator, oss2_bucket):
    upload_id = oss2_bucket.init_multipart_upload("tmp/big.bin").upload_id
    put_config(oss2_bucket, "lifecycle", LIFECYCLE_ABORT_1_DAY)
    listed = oss2_bucket.list_multipart_uploads().upload_list
    assert [u.upload_id for u in listed] == [upload_id]
    oss_emulator.advance_clock(DAY + 1)
    assert oss2_bucket.list_multipart_uploads().upload_list == []


def test_lifecycle_disabled_rule_expires_nothing(oss_emulator, oss2_bucket):
    oss2_bucket.put_object("logs/a.txt", b"a")
    put_config(oss2_bucket, "lifecycle", LIFECYCLE_30_DAYS.replace(b"Enabled", b"Disabled"))
    oss_emulator.advance_clock(90 * DAY)
    assert oss2_bucket.get_object("logs/a.txt").read() == b"a"


DAY = 86400
LIFECYCLE_30_DAYS = (
    b"<LifecycleConfiguration><Rule><ID>r1</ID><Prefix>logs/</Prefix><Status>Enabled</Status>"
    b"<Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>"
)
LIFECYCLE_ABORT_1_DAY = (
    b"<LifecycleConfiguration><Rule><ID>r1</ID><Prefix>tmp/</Prefix><Status>Enabled</Status>"
    b"<AbortMultipartUpload><Days>1</Days></AbortMultipartUpload></Rule></LifecycleConfiguration>"
)
ENCRYPTION = (
    b"<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault>%s"
    b"</ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>"
)
RULE = b"<LifecycleConfiguration><Rule>%s</Rule></LifecycleConfiguration>"
LOGGING = (
    b"<BucketLoggingStatus><LoggingEnabled><TargetBucket>no-such-bucket-x1</TargetBucket>"
    b"</LoggingEnabled></BucketLoggingStatus>"
)


@pytest.mark.parametrize(
    ("sub", "body", "code"),
    [
        ("lifecycle", b"<LifecycleConfiguration/>", "MalformedXML"),
        ("lifecycle", RULE % b"<Prefix>a</Prefix>", "MalformedXML"),  # no Status
        ("lifecycle", RULE % b"<Status>Enabled</Status>", "InvalidArgument"),  # no action
        ("lifecycle", LIFECYCLE_30_DAYS.replace(b"<Days>30", b"<Days>0"), "InvalidArgument"),
        (
            "lifecycle",
            LIFECYCLE_30_DAYS.replace(b"<Days>30</Days>", b"<Date>2024-01-01T10:00:00.000Z</Date>"),
            "InvalidArgument",  # not midnight UTC
        ),
        ("lifecycle", b"<Lifecycle", "MalformedXML"),
        ("referer", b"<RefererConfiguration/>", "MalformedXML"),
        ("website", b"<WebsiteConfiguration/>", "MalformedXML"),
        ("logging", LOGGING, "InvalidTargetBucketForLogging"),
        ("encryption", ENCRYPTION % b"<SSEAlgorithm>DES</SSEAlgorithm>", "InvalidArgument"),
        (
            "encryption",
            ENCRYPTION % b"<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>",
            "InvalidArgument",
        ),
        ("policy", b"{not json", "InvalidPolicyDocument"),
        ("policy", b'{"Version": "1", "Statement": []}', "InvalidPolicyDocument"),
        (
            "requestPayment",
            b"<RequestPaymentConfiguration><Payer>Nobody</Payer></RequestPaymentConfiguration>",
            "InvalidArgument",
        ),
        (
            "versioning",
            b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
            "MalformedXML",
        ),
    ],
)
def test_raw_bad_configuration_refused_and_not_stored(oss_emulator, oss2_bucket, sub, body, code):
    with pytest.raises(oss2.exceptions.ServerError) as e:
        put_config(oss2_bucket, sub, body)
    assert (e.value.status, e.value.code) == (400, code), e.value.message
    stored = oss_emulator.services.storage.get_bucket_setting(oss2_bucket.bucket_name, sub)
    assert stored is None


def test_configuration_of_a_missing_bucket_is_no_such_bucket(oss_emulator, oss2_bucket):
    missing = oss2.Bucket(
        oss2_bucket.auth, oss_emulator.url, "no-such-bucket-cfg", region="cn-hangzhou"
    )
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        missing.get_bucket_website()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        missing.put_bucket_versioning(m.BucketVersioningConfig("Enabled"))
