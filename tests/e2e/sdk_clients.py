"""oss2 and alibabacloud-oss-v2 clients pointed at a running emulator, for the SDK stories."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import alibabacloud_oss_v2 as oss
import oss2


def unique(prefix: str = "sdk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def v2_config(emulator, version: str = "v4", key_id: str | None = None) -> oss.config.Config:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        key_id or emulator.access_key_id, emulator.access_key_secret
    )
    cfg.region = "cn-hangzhou"
    cfg.endpoint = emulator.url
    cfg.signature_version = version
    return cfg


@contextmanager
def oss2_bucket_on(emulator, version: str = "v4") -> Iterator[oss2.Bucket]:
    """A fresh bucket through oss2 (V1 ``Auth`` or ``AuthV4``), dropped afterwards."""
    auth_class = oss2.Auth if version == "v1" else oss2.AuthV4
    auth = auth_class(emulator.access_key_id, emulator.access_key_secret)
    bucket = oss2.Bucket(auth, emulator.url, unique("oss2"), region="cn-hangzhou")
    bucket.create_bucket()
    try:
        yield bucket
    finally:
        emulator.services.storage.drop_bucket(bucket.bucket_name)


@contextmanager
def v2_bucket_on(emulator, version: str = "v4") -> Iterator[tuple[oss.Client, str]]:
    """A v2 client and a fresh bucket's name, dropped afterwards."""
    client = oss.Client(v2_config(emulator, version))
    name = unique("v2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        yield client, name
    finally:
        emulator.services.storage.drop_bucket(name)
