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


# -- the oldest time under a rule's prefix, kept between reads (``expiry.Oldest``) --------------


def _statements(storage) -> list[str]:
    seen: list[str] = []
    storage.index.read().set_trace_callback(seen.append)
    return seen


def test_a_rule_that_made_nothing_due_reads_no_rows_the_second_time(storage):
    for i in range(50):
        storage.put_object("bkt", f"logs/{i}", iter([b"x"]))
    before = time.time() - 3600  # a rule whose cutoff is an hour ago: nothing is that old
    assert storage.expire("bkt", "logs/", objects_before=before, uploads_before=before) == 0
    seen = _statements(storage)
    for _ in range(3):
        assert storage.expire("bkt", "logs/", objects_before=before, uploads_before=before) == 0
    assert seen == []


def test_objects_become_due_as_the_cutoff_passes_them(storage):
    storage.put_object("bkt", "logs/a", iter([b"x"]))
    assert storage.expire("bkt", "logs/", objects_before=time.time() - 60) == 0
    storage.put_object("bkt", "logs/b", iter([b"y"]))  # newer: cannot be due before logs/a
    assert storage.expire("bkt", "logs/", objects_before=time.time() + 1) == 2
    storage.put_object("bkt", "logs/c", iter([b"z"]))
    assert storage.expire("bkt", "logs/", objects_before=time.time() + 1) == 1  # scanned again
    assert storage.list_objects("bkt").objects == []


def test_a_clock_moved_back_makes_the_next_check_scan_again(tmp_path):
    from ossemu.emulator.clock import SharedClock
    from ossemu.emulator.storage import Storage

    clock = SharedClock(tmp_path / "clock")
    storage = Storage(tmp_path / "data", clock=clock)
    try:
        storage.create_bucket("bkt")
        storage.put_object("bkt", "new", iter([b"x"]))
        cutoff = time.time() - 600
        assert storage.expire("bkt", "", objects_before=cutoff) == 0  # oldest: now
        clock.set_offset(-3600)  # a test moves the clock back an hour and uploads
        storage.put_object("bkt", "old", iter([b"y"]))
        assert storage.expire("bkt", "", objects_before=cutoff) == 1
        assert [o.key for o in storage.list_objects("bkt").objects] == ["new"]
    finally:
        storage.close()
        clock.close()


def test_another_process_uploading_meanwhile_is_expired_in_its_turn(storage):
    from ossemu.emulator.storage import Storage

    theirs = Storage(storage.root)
    try:
        storage.put_object("bkt", "tmp/mine", iter([b"x"]))
        assert storage.expire("bkt", "tmp/", objects_before=time.time() - 60) == 0
        upload = theirs.initiate_multipart_upload("bkt", "tmp/u", content_type="x", headers={})
        theirs.put_object("bkt", "tmp/theirs", iter([b"y"]))
        later = time.time() + 1
        assert storage.expire("bkt", "tmp/", objects_before=later, uploads_before=later) == 3
        with pytest.raises(OssError, match="NoSuchUpload"):
            theirs.get_upload("bkt", "tmp/u", upload.upload_id)
    finally:
        theirs.close()
