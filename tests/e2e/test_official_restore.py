"""Storage classes and RestoreObject through oss2 and alibabacloud-oss-v2: archived objects refuse
reads until a restore, which takes ``restore_seconds`` on the emulator's clock (moved here with
``advance_clock``), is readable until its expiry date, and then is frozen again."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import RestoreConfiguration, RestoreJobParameters

ARCHIVED = ["Archive", "ColdArchive", "DeepColdArchive"]
DAY = 86400


def put(bucket: oss2.Bucket, key: str, storage_class: str, data: bytes = b"cold bytes"):
    bucket.put_object(key, data, headers={"x-oss-storage-class": storage_class})


@pytest.mark.parametrize("storage_class", ARCHIVED)
def test_oss2_an_archived_object_is_readable_only_after_its_restore(
    oss2_bucket, oss_emulator, storage_class
):
    put(oss2_bucket, "cold", storage_class)
    head = oss2_bucket.head_object("cold")
    assert head.headers["x-oss-storage-class"] == storage_class
    assert "x-oss-restore" not in head.headers
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.get_object("cold")
    assert err.value.status == 403 and err.value.code == "InvalidObjectState"
    assert err.value.ec == "0016-00000404"

    config = RestoreConfiguration(days=2, job_parameters=RestoreJobParameters("Expedited"))
    assert oss2_bucket.restore_object("cold", input=config).status == 202
    head = oss2_bucket.head_object("cold")
    assert head.headers["x-oss-restore"] == 'ongoing-request="true"'
    with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress) as err:
        oss2_bucket.restore_object("cold", input=config)
    assert err.value.status == 409 and err.value.ec == "0016-00000701"
    with pytest.raises(oss2.exceptions.ServerError):
        oss2_bucket.get_object("cold")

    oss_emulator.advance_clock(oss_emulator.config.restore_seconds)
    restored = oss2_bucket.head_object("cold").headers["x-oss-restore"]
    assert restored.startswith('ongoing-request="false", expiry-date="')
    assert restored.endswith(' GMT"')
    assert oss2_bucket.get_object("cold").read() == b"cold bytes"

    oss_emulator.advance_clock(2 * DAY)
    assert "x-oss-restore" not in oss2_bucket.head_object("cold").headers
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.get_object("cold")
    assert err.value.code == "InvalidObjectState"


def test_oss2_restoring_a_restored_object_is_200_and_moves_its_expiry(oss2_bucket, oss_emulator):
    put(oss2_bucket, "cold", "Archive")
    oss2_bucket.restore_object("cold")
    oss_emulator.advance_clock(oss_emulator.config.restore_seconds)
    first = oss2_bucket.head_object("cold").headers["x-oss-restore"]
    oss_emulator.advance_clock(DAY // 2)
    assert oss2_bucket.restore_object("cold").status == 200
    later = oss2_bucket.head_object("cold").headers["x-oss-restore"]
    assert later != first and later.startswith('ongoing-request="false"')
    oss_emulator.advance_clock(DAY * 3 // 4)  # past the first expiry, before the new one
    assert oss2_bucket.get_object("cold").read() == b"cold bytes"


def test_oss2_an_overwrite_forgets_the_restore(oss2_bucket, oss_emulator):
    put(oss2_bucket, "cold", "Archive")
    oss2_bucket.restore_object("cold")
    oss_emulator.advance_clock(oss_emulator.config.restore_seconds)
    put(oss2_bucket, "cold", "Archive", b"new")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.get_object("cold")
    assert err.value.code == "InvalidObjectState"


@pytest.mark.parametrize("storage_class", ["Standard", "IA"])
def test_oss2_restore_of_a_warm_object_is_operation_not_supported(oss2_bucket, storage_class):
    put(oss2_bucket, "warm", storage_class)
    assert oss2_bucket.get_object("warm").read() == b"cold bytes"
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.restore_object("warm")
    assert err.value.status == 400 and err.value.code == "OperationNotSupported"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        oss2_bucket.restore_object("missing")


def test_oss2_storage_class_is_listed_and_an_unknown_one_refused(oss2_bucket):
    put(oss2_bucket, "a", "ColdArchive")
    [listed] = oss2_bucket.list_objects().object_list
    assert listed.storage_class == "ColdArchive"
    with pytest.raises(oss2.exceptions.InvalidArgument):
        put(oss2_bucket, "b", "Frozen")
    assert not oss2_bucket.object_exists("b")


def test_oss2_copies_of_an_archived_object_wait_for_the_restore_too(oss2_bucket, oss_emulator):
    put(oss2_bucket, "cold", "Archive")
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.copy_object(oss2_bucket.bucket_name, "cold", "copy")
    assert err.value.code == "InvalidObjectState"
    upload_id = oss2_bucket.init_multipart_upload("parts").upload_id
    with pytest.raises(oss2.exceptions.ServerError) as err:
        oss2_bucket.upload_part_copy(oss2_bucket.bucket_name, "cold", None, "parts", upload_id, 1)
    assert err.value.code == "InvalidObjectState"
    oss2_bucket.restore_object("cold")
    oss_emulator.advance_clock(oss_emulator.config.restore_seconds)
    oss2_bucket.copy_object(oss2_bucket.bucket_name, "cold", "copy")
    assert oss2_bucket.head_object("copy").content_length == len(b"cold bytes")


def test_v2_restore_object_with_a_tier_and_head_reports_it(v2_client, oss_emulator):
    client, bucket = v2_client
    client.put_object(
        oss.PutObjectRequest(bucket=bucket, key="cold", body=b"v2", storage_class="ColdArchive")
    )
    result = client.restore_object(
        oss.RestoreObjectRequest(
            bucket=bucket,
            key="cold",
            restore_request=oss.RestoreRequest(days=1, tier="Bulk"),
        )
    )
    assert result.status_code == 202
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key="cold"))
    assert head.storage_class == "ColdArchive" and head.restore == 'ongoing-request="true"'
    with pytest.raises(oss.exceptions.OperationError) as err:
        client.restore_object(oss.RestoreObjectRequest(bucket=bucket, key="cold"))
    assert err.value.unwrap().code == "RestoreAlreadyInProgress"
    oss_emulator.advance_clock(oss_emulator.config.restore_seconds)
    got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="cold"))
    assert got.body.read() == b"v2"


@pytest.mark.parametrize(
    "body",
    [
        b"<RestoreRequest><Days>0</Days></RestoreRequest>",
        b"<RestoreRequest><Days>2</Days><JobParameters><Tier>Fast</Tier></JobParameters>"
        b"</RestoreRequest>",
    ],
    ids=["zero-days", "unknown-tier"],
)
def test_oss2_a_bad_restore_request_is_invalid_argument(oss2_bucket, body):
    put(oss2_bucket, "cold", "Archive")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        oss2_bucket.restore_object("cold", input=body)
    assert "x-oss-restore" not in oss2_bucket.head_object("cold").headers
