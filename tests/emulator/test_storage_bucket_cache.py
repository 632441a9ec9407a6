"""Each process's copy of bucket rows and settings (``storage/bucket_cache.py``): a change
made by another process is seen at once, a copy is trusted a second at most, memory stays
bounded, and nothing a write block has not committed is ever copied."""

from __future__ import annotations

import sqlite3
import time

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.storage import Storage, bucket_cache


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
    monkeypatch.setattr(bucket_cache, "RECHECK_SECONDS", 0.05)
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
        (mine.root / "index.sqlite3-buckets").unlink()
        theirs.put_bucket_setting("bkt", "cors", "after-unlink")
        assert mine.get_bucket_setting("bkt", "cors") == "after-unlink"
        assert (mine.root / "index.sqlite3-buckets").stat().st_size == 8
    finally:
        theirs.close()
        mine.close()


def test_the_copy_holds_a_bounded_number_of_buckets(storage, monkeypatch):
    monkeypatch.setattr(bucket_cache, "MAX_CACHED_BUCKETS", 3)
    for i in range(10):
        assert storage.get_bucket_setting(f"b{i}", "acl") is None
    kept = storage.catalog.cache._copy.settings
    assert 1 <= len(kept) <= 3


def test_a_bucket_created_or_deleted_elsewhere_is_seen_at_once(two_processes):
    mine, theirs = two_processes
    with pytest.raises(OssError) as missing:
        mine.get_bucket("fresh")
    assert missing.value.code == "NoSuchBucket"
    theirs.create_bucket("fresh", storage_class="IA")
    assert mine.get_bucket("fresh").storage_class == "IA"
    mine.put_object("fresh", "k", iter([b"x"]))  # takes the class from the copy
    assert mine.head_object("fresh", "k").storage_class == "IA"
    theirs.delete_object("fresh", "k")
    theirs.delete_bucket("fresh")
    with pytest.raises(OssError) as gone:
        mine.get_bucket("fresh")
    assert gone.value.code == "NoSuchBucket"


def test_a_read_inside_a_write_block_copies_only_what_is_committed(storage):
    with pytest.raises(RuntimeError), storage.index.write() as db:
        db.execute("INSERT INTO buckets (name, created, region) VALUES ('ghost', 0, 'r')")
        db.execute("INSERT INTO bucket_settings VALUES ('bkt', 'cors', 'uncommitted')")
        with pytest.raises(OssError):
            storage.get_bucket("ghost")  # the committed view: no such bucket yet
        assert storage.get_bucket_setting("bkt", "cors") is None
        raise RuntimeError("roll it back")
    with pytest.raises(OssError):
        storage.get_bucket("ghost")
    assert storage.get_bucket_setting("bkt", "cors") is None
