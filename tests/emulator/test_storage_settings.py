"""Bucket settings and object ACLs on disk: one settings table, an ``acl`` column on objects,
both added to a data dir written by an older ossemu when it is opened."""

from __future__ import annotations

import sqlite3

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.storage import Storage

# The objects table as ossemu wrote it before object ACLs (no acl column, no settings table).
OLD_SCHEMA = """
CREATE TABLE buckets (name TEXT PRIMARY KEY, created REAL NOT NULL, region TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, crc64 TEXT NOT NULL, content_md5 TEXT NOT NULL,
    content_type TEXT NOT NULL, object_type TEXT NOT NULL, last_modified REAL NOT NULL,
    headers TEXT NOT NULL, PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE inline_blobs (id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL);
INSERT INTO buckets VALUES ('old', 0, 'cn-hangzhou');
INSERT INTO inline_blobs VALUES (1, 'hello');
INSERT INTO objects VALUES ('old', 'k', 'inline:1', 5, '5D41402ABC4B2A76B9719D911017C592', '0',
    'XUFAKrxLKna5cZ2REBfFkg==', 'text/plain', 'Normal', 0, '{}');
"""


def test_an_older_data_dir_gains_object_acls_and_bucket_settings_when_opened(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    with sqlite3.connect(root / "index.sqlite3") as db:
        db.executescript(OLD_SCHEMA)
    storage = Storage(root)
    try:
        assert storage.head_object("old", "k").acl == "default"
        storage.put_object_acl("old", "k", "public-read")
        storage.put_object("old", "new", iter([b"x"]), acl="private")
        storage.put_bucket_setting("old", "acl", "public-read")
        assert storage.head_object("old", "k").acl == "public-read"
        assert storage.head_object("old", "new").acl == "private"
        assert storage.get_bucket_setting("old", "acl") == "public-read"
    finally:
        storage.close()
    again = Storage(root)  # opening a migrated dir again changes nothing
    try:
        assert again.head_object("old", "k").acl == "public-read"
    finally:
        again.close()


def test_settings_go_with_their_bucket(storage):
    storage.create_bucket("other", acl="public-read-write")
    storage.put_bucket_setting("other", "cors", "{}")
    assert storage.get_bucket_setting("other", "acl") == "public-read-write"
    storage.delete_bucket("other")
    assert storage.get_bucket_setting("other", "acl") is None
    storage.create_bucket("other")
    assert storage.get_bucket_setting("other", "cors") is None  # nothing came back with it
    storage.put_bucket_setting("other", "cors", "{}")
    storage.drop_bucket("other")
    assert storage.get_bucket_setting("other", "cors") is None
    with pytest.raises(OssError, match="NoSuchBucket"):
        storage.put_bucket_setting("other", "acl", "private")


def test_object_acl_follows_each_version_and_multipart_complete(storage):
    storage.put_object("bkt", "k", iter([b"1"]), acl="public-read")
    assert storage.head_object("bkt", "k").acl == "public-read"
    storage.put_object("bkt", "k", iter([b"2"]))  # a new version starts from default, as on OSS
    assert storage.head_object("bkt", "k").acl == "default"
    upload = storage.initiate_multipart_upload(
        "bkt", "mp", content_type="text/plain", headers={}, acl="public-read-write"
    )
    part = storage.upload_part("bkt", "mp", upload.upload_id, 1, iter([b"p"]))
    meta = storage.complete_multipart_upload(
        "bkt", "mp", upload.upload_id, [(1, part.etag)], forbid_overwrite=False
    )
    assert meta.acl == "public-read-write" and meta.headers == {}
    assert storage.head_object("bkt", "mp").acl == "public-read-write"
    with pytest.raises(OssError, match="NoSuchKey"):
        storage.put_object_acl("bkt", "nope", "private")
