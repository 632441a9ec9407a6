"""Lifecycle expiry on disk and the bucket-settings table it reads its rules from."""

from __future__ import annotations

import time

import pytest

from ossemu.emulator.protocol.errors import OssError


def test_expire_removes_only_due_objects_under_the_prefix(storage):
    storage.put_object("bkt", "logs/small", iter([b"x"]))  # kept inline in the index
    storage.put_object("bkt", "logs/big", iter([b"y" * 200_000]))  # a blob file
    storage.put_object("bkt", "other/old", iter([b"z"]))
    cutoff = time.time() + 1
    storage.put_object("bkt", "logs/later", iter([b"w"]))
    with storage.index.write() as db:
        db.execute("UPDATE objects SET last_modified = ? WHERE key = 'logs/later'", (cutoff + 5,))
    assert storage.expire("bkt", "logs/", objects_before=cutoff) == 2
    page = storage.list_objects("bkt")
    assert [o.key for o in page.objects] == ["logs/later", "other/old"]
    with pytest.raises(OssError, match="NoSuchKey"):
        storage.head_object("bkt", "logs/big")


def test_expire_aborts_due_uploads_with_their_parts(storage):
    upload = storage.initiate_multipart_upload("bkt", "tmp/a", content_type="x", headers={})
    storage.upload_part("bkt", "tmp/a", upload.upload_id, 1, iter([b"p" * 1000]))
    kept = storage.initiate_multipart_upload("bkt", "keep/a", content_type="x", headers={})
    assert storage.expire("bkt", "tmp/", uploads_before=time.time() + 1) == 1
    with pytest.raises(OssError, match="NoSuchUpload"):
        storage.get_upload("bkt", "tmp/a", upload.upload_id)
    assert storage.get_upload("bkt", "keep/a", kept.upload_id).key == "keep/a"
    with storage.index.write() as db:
        assert db.execute("SELECT count(*) FROM parts").fetchone()[0] == 0


def test_bucket_settings_go_with_their_bucket(storage):
    storage.put_bucket_setting("bkt", "lifecycle", "<LifecycleConfiguration/>")
    assert storage.get_bucket_setting("bkt", "lifecycle") == "<LifecycleConfiguration/>"
    storage.put_bucket_setting("bkt", "lifecycle", None)
    assert storage.get_bucket_setting("bkt", "lifecycle") is None
    storage.put_bucket_setting("bkt", "website", "<WebsiteConfiguration/>")
    storage.delete_bucket("bkt")
    storage.create_bucket("bkt")
    assert storage.get_bucket_setting("bkt", "website") is None
    with pytest.raises(OssError, match="NoSuchBucket"):
        storage.put_bucket_setting("nope", "website", "<x/>")
