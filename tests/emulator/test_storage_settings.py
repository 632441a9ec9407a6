"""Bucket settings and object ACLs on disk: one settings table, an ``acl`` column on objects,
both added to a data dir written by an older ossemu when it is opened."""

from __future__ import annotations

import sqlite3
import time

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


# -- each process's copy of the settings (``settings.SettingsCache``) --------------------------


@pytest.fixture
def two_processes(storage):
    """A second Storage on the same data dir: its own index connections, settings copy and
    version file, as another ``ossemu serve`` worker has."""
    other = Storage(storage.root)
    yield storage, other
    other.close()


def test_a_setting_changed_by_another_process_is_read_at_once(two_processes):
    mine, theirs = two_processes
    assert mine.get_bucket_setting("bkt", "cors") is None  # now in mine's copy
    theirs.put_bucket_setting("bkt", "cors", "rules-1")
    assert mine.get_bucket_setting("bkt", "cors") == "rules-1"
    theirs.put_bucket_setting("bkt", "cors", None)
    assert mine.get_bucket_setting("bkt", "cors") is None


def test_settings_deleted_with_a_bucket_elsewhere_are_gone_here(two_processes):
    mine, theirs = two_processes
    theirs.create_bucket("gone", acl="public-read")
    assert mine.get_bucket_setting("gone", "acl") == "public-read"
    theirs.delete_bucket("gone")
    theirs.create_bucket("gone")
    assert mine.get_bucket_setting("gone", "acl") is None
    theirs.create_bucket("dropped", acl="private")
    assert mine.get_bucket_setting("dropped", "acl") == "private"
    theirs.drop_bucket("dropped")
    assert mine.get_bucket_setting("dropped", "acl") is None
    theirs.put_bucket_setting("bkt", "acl", "private")
    assert mine.get_bucket_setting("bkt", "acl") == "private"
    theirs.reset()
    assert mine.get_bucket_setting("bkt", "acl") is None


def test_a_change_the_mark_missed_is_read_within_a_second(storage, monkeypatch):
    """Whatever happens to the version file (deleted, or a write made without it), a copy is
    trusted for RECHECK_SECONDS at most."""
    from ossemu.emulator.storage import settings

    monkeypatch.setattr(settings, "RECHECK_SECONDS", 0.05)
    assert storage.get_bucket_setting("bkt", "cors") is None
    with sqlite3.connect(storage.root / "index.sqlite3") as db:
        db.execute("INSERT INTO bucket_settings VALUES ('bkt', 'cors', 'behind-its-back')")
    assert storage.get_bucket_setting("bkt", "cors") is None  # the copy, as the mark says
    time.sleep(0.1)
    assert storage.get_bucket_setting("bkt", "cors") == "behind-its-back"


def test_a_deleted_version_file_is_made_again_and_followed(tmp_path, monkeypatch):
    from ossemu.emulator import version_file

    monkeypatch.setattr(version_file, "RECHECK_SECONDS", 0.0)  # before the files are opened
    mine = Storage(tmp_path / "data")
    theirs = Storage(tmp_path / "data")
    try:
        mine.create_bucket("bkt")
        assert mine.get_bucket_setting("bkt", "cors") is None
        (mine.root / "index.sqlite3-settings").unlink()
        theirs.put_bucket_setting("bkt", "cors", "after-unlink")
        assert mine.get_bucket_setting("bkt", "cors") == "after-unlink"
        assert (mine.root / "index.sqlite3-settings").stat().st_size == 8
    finally:
        theirs.close()
        mine.close()


def test_the_copy_holds_a_bounded_number_of_buckets(storage, monkeypatch):
    from ossemu.emulator.storage import settings

    monkeypatch.setattr(settings, "MAX_CACHED_BUCKETS", 3)
    for i in range(10):
        assert storage.get_bucket_setting(f"b{i}", "acl") is None
    kept = storage.catalog.settings._state[2]
    assert 1 <= len(kept) <= 3
