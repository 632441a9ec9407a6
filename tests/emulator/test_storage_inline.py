"""Small bodies live in the index, committed, replaced and deleted with their row."""

from __future__ import annotations

import sqlite3

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.storage import Storage, fsck
from ossemu.emulator.storage.inline import INLINE_MAX


def blob_files(storage: Storage) -> int:
    return len(list((storage.root / "blobs").glob("*/????????????????????????????????")))


def inline_rows(storage: Storage) -> int:
    return storage.index.read().execute("SELECT count(*) FROM inline_blobs").fetchone()[0]


def read(storage: Storage, key: str) -> bytes:
    _, f = storage.open_object("bkt", key)
    with f:
        return f.read()


def test_a_small_body_is_kept_in_the_index_not_in_a_file(storage):
    meta = storage.put_object("bkt", "k", iter([b"x" * 4096]), expected_size=4096)
    assert (blob_files(storage), inline_rows(storage)) == (0, 1)
    assert read(storage, "k") == b"x" * 4096
    assert storage.head_object("bkt", "k").etag == meta.etag
    assert not list((storage.root / "tmp").iterdir())


@pytest.mark.parametrize("size,files,rows", [(0, 0, 1), (INLINE_MAX, 0, 1), (INLINE_MAX + 1, 1, 0)])
def test_the_inline_limit_is_inclusive(storage, size, files, rows):
    storage.put_object("bkt", "k", iter([b"z" * size]), expected_size=size)
    assert (blob_files(storage), inline_rows(storage)) == (files, rows)
    assert read(storage, "k") == b"z" * size


def test_a_chunked_body_that_outgrows_the_limit_becomes_a_whole_file(storage):
    chunks = [bytes([i]) * 20_000 for i in range(5)]  # 100,000 bytes, no declared length
    meta = storage.put_object("bkt", "k", iter(chunks))
    assert (blob_files(storage), inline_rows(storage)) == (1, 0)
    assert read(storage, "k") == b"".join(chunks) and meta.size == 100_000


def test_overwrites_between_inline_and_file_free_the_old_version(storage):
    big = b"B" * (INLINE_MAX + 10)
    steps = [(b"small", (0, 1)), (big, (1, 0)), (b"small again", (0, 1)), (b"tiny", (0, 1))]
    for body, expected in steps:
        storage.put_object("bkt", "k", iter([body]))
        assert (blob_files(storage), inline_rows(storage)) == expected
        assert read(storage, "k") == body
    assert storage.delete_object("bkt", "k")
    assert (blob_files(storage), inline_rows(storage)) == (0, 0)


def test_a_reader_keeps_the_old_small_version_while_it_is_replaced(storage):
    storage.put_object("bkt", "k", iter([b"old"]))
    _, f = storage.open_object("bkt", "k")
    storage.put_object("bkt", "k", iter([b"new"]))
    with f:
        assert f.read() == b"old"
    assert read(storage, "k") == b"new"


def test_a_small_overwrite_rewrites_its_row_in_place_under_a_new_name(storage):
    names, rows = [], set()
    for body in (b"one", b"two" * 1000, b"three"):
        names.append(storage.put_object("bkt", "k", iter([body])).blob)
        assert read(storage, "k") == body
        assert (blob_files(storage), inline_rows(storage)) == (0, 1)
        rows.add(storage.index.read().execute("SELECT id FROM inline_blobs").fetchone()[0])
    assert len(rows) == 1, "a row inserted and another deleted per overwrite"
    assert len(set(names)) == 3, "a reader of an old name must learn it was replaced"


def test_a_reader_holding_the_replaced_version_never_gets_the_new_bytes(storage):
    old = storage.put_object("bkt", "k", iter([b"old body"]))
    storage.put_object("bkt", "k", iter([b"new body"]))  # the same length: no size check helps
    with pytest.raises(FileNotFoundError):
        storage.open_blob(old)


def test_a_refused_overwrite_keeps_the_small_body_it_would_have_replaced(storage):
    storage.put_object("bkt", "k", iter([b"keep me"]))
    with pytest.raises(OssError) as e:
        storage.put_object("bkt", "k", iter([b"no"]), forbid_overwrite=True)
    assert e.value.code == "FileAlreadyExists"
    with pytest.raises(OssError):
        storage.put_object("bkt", "k", iter([b"bad"]), expected_md5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert read(storage, "k") == b"keep me" and inline_rows(storage) == 1


def test_an_overwrite_whose_row_fails_to_commit_leaves_the_old_body_readable(storage):
    storage.put_object("bkt", "k", iter([b"before"]))
    with sqlite3.connect(storage.root / "index.sqlite3") as db:  # the row write fails late
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON objects"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    with pytest.raises(sqlite3.DatabaseError, match="refused by the test"):
        storage.put_object("bkt", "k", iter([b"after!"]))
    assert read(storage, "k") == b"before"
    assert storage.open_blob(storage.head_object("bkt", "k")).read() == b"before"


def test_fsck_finds_every_body_after_small_overwrites(storage):
    for i in range(3):
        storage.put_object("bkt", "k", iter([b"version %d" % i]))
        storage.put_object("bkt", f"other-{i}", iter([b"x"]))
    report = fsck.check(storage.root)
    assert report.problems == [] and report.inline_objects == 4


def test_copy_drop_and_reset_keep_inline_rows_in_step(storage):
    storage.put_object("bkt", "src", iter([b"payload"]))
    storage.copy_object("bkt", "src", "bkt", "dst")
    assert read(storage, "dst") == b"payload" and inline_rows(storage) == 2
    storage.create_bucket("other")
    storage.put_object("other", "k", iter([b"elsewhere"]))
    storage.drop_bucket("bkt")
    assert inline_rows(storage) == 1
    storage.reset()
    assert inline_rows(storage) == 0


def test_refused_small_bodies_store_nothing(storage):
    refusals = (
        ({"expected_md5": "AAAAAAAAAAAAAAAAAAAAAA=="}, "InvalidDigest"),
        ({"expected_size": 99}, "IncompleteBody"),
    )
    for kw, code in refusals:
        with pytest.raises(OssError) as e:
            storage.put_object("bkt", "k", iter([b"abc"]), **kw)
        assert e.value.code == code
    assert inline_rows(storage) == 0 and blob_files(storage) == 0


def test_a_data_dir_from_before_inline_bodies_opens_and_gains_the_table(tmp_path):
    root = tmp_path / "data"
    Storage(root).close()
    db = sqlite3.connect(root / "index.sqlite3")
    db.execute("DROP TABLE inline_blobs")
    db.commit()
    db.close()
    s = Storage(root)
    try:
        s.create_bucket("bkt")
        s.put_object("bkt", "k", iter([b"v"]))
        _, f = s.open_object("bkt", "k")
        with f:
            assert f.read() == b"v"
    finally:
        s.close()


def test_a_data_dir_from_before_generations_reads_and_replaces_its_small_bodies(tmp_path):
    root = tmp_path / "data"
    s = Storage(root)
    s.create_bucket("bkt")
    s.put_object("bkt", "k", iter([b"written before"]))
    s.close()
    with sqlite3.connect(root / "index.sqlite3") as db:
        db.execute("ALTER TABLE inline_blobs DROP COLUMN gen")
    s = Storage(root)
    try:
        assert read(s, "k") == b"written before"
        s.put_object("bkt", "k", iter([b"written after"]))
        assert read(s, "k") == b"written after" and inline_rows(s) == 1
    finally:
        s.close()
