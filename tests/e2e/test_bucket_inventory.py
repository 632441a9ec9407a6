"""Bucket inventory configurations through oss2: put, get, list with paging, delete, and the
refusals (raw bodies); no report is ever written."""

from __future__ import annotations

import uuid

import oss2
import pytest
from oss2 import models as m


@pytest.fixture
def bucket(oss_emulator):
    auth = oss2.Auth(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    b = oss2.Bucket(auth, oss_emulator.url, f"inv-{uuid.uuid4().hex[:12]}")
    b.create_bucket()
    yield b
    oss_emulator.services.storage.drop_bucket(b.bucket_name)


def config(inventory_id: str, bucket_name: str) -> m.InventoryConfiguration:
    return m.InventoryConfiguration(
        inventory_id=inventory_id,
        is_enabled=True,
        included_object_versions="Current",
        inventory_filter=m.InventoryFilter(prefix="photos/"),
        inventory_destination=m.InventoryDestination(
            bucket_destination=m.InventoryBucketDestination(
                account_id="1234567890",
                role_arn="acs:ram::1234567890:role/AliyunOSSRole",
                bucket=f"acs:oss:::{bucket_name}",
                inventory_format="CSV",
                prefix="reports/",
            )
        ),
        inventory_schedule=m.InventorySchedule("Weekly"),
        optional_fields=["Size", "ETag"],
    )


def test_inventory_round_trip_and_delete(bucket):
    bucket.put_bucket_inventory_configuration(config("weekly", bucket.bucket_name))
    got = bucket.get_bucket_inventory_configuration("weekly")
    assert (got.inventory_id, got.is_enabled, got.included_object_versions) == (
        "weekly",
        True,
        "Current",
    )
    assert got.inventory_filter.prefix == "photos/"
    assert got.inventory_schedule.frequency == "Weekly"
    assert got.optional_fields == ["Size", "ETag"]
    dest = got.inventory_destination.bucket_destination
    assert (dest.bucket, dest.prefix) == (bucket.bucket_name, "reports/")  # oss2 strips acs:oss:::
    bucket.delete_bucket_inventory_configuration("weekly")
    with pytest.raises(oss2.exceptions.NoSuchInventory):
        bucket.get_bucket_inventory_configuration("weekly")


def test_inventory_list_pages_by_100(bucket):
    ids = [f"inv{i:03d}" for i in range(101)]
    for inventory_id in ids:
        bucket.put_bucket_inventory_configuration(config(inventory_id, bucket.bucket_name))
    first = bucket.list_bucket_inventory_configurations()
    assert first.is_truncated and len(first.inventory_configurations) == 100
    rest = bucket.list_bucket_inventory_configurations(first.next_continuation_token)
    assert [c.inventory_id for c in rest.inventory_configurations] == ["inv100"]
    assert not rest.is_truncated


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"inventory_id": "other"}, "InvalidArgument"),  # Id differs from ?inventoryId
        ({"inventory_schedule": m.InventorySchedule("Hourly")}, "InvalidArgument"),
        ({"optional_fields": ["Colour"]}, "InvalidArgument"),
        ({"included_object_versions": "Some"}, "InvalidArgument"),
    ],
)
def test_bad_inventory_refused(bucket, change, code):
    good = config("x1", bucket.bucket_name)
    bad = config("x1", bucket.bucket_name)
    for name, value in change.items():
        setattr(bad, name, value)
    data = oss2.xml_utils.to_put_inventory_configuration(bad)
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket._do(
            "PUT",
            bucket.bucket_name,
            "",
            params={"inventory": "", "inventoryId": good.inventory_id},
            data=data,
        )
    assert (e.value.status, e.value.code) == (400, code)
    assert bucket.list_bucket_inventory_configurations().inventory_configurations == []
