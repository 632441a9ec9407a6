"""Storage: atomic versions, the on-disk layout, listing from the index, naming rules."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.storage import Storage, crc64
from ossemu.emulator.storage.inline import INLINE_MAX

BIG = b"b" * (INLINE_MAX + 1)  # the smallest body stored as a blob file


def put(storage: Storage, key: str, data: bytes = b"x", **kw):
    return storage.put_object("bkt", key, iter([data]), **kw)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_layout_matches_the_docstring(storage: Storage):
    put(storage, "../../etc/passwd", BIG)
    root = storage.root
    top = {p.name for p in root.iterdir()}
    assert top <= {
        "index.sqlite3",
        "index.sqlite3-wal",
        "index.sqlite3-shm",
        "index.sqlite3-writer",
        "index.sqlite3-buckets",
        "blobs",
        "tmp",
        "owners",
        "lost+found",
    }
    files = sorted(p for p in (root / "blobs").rglob("*") if p.is_file())
    blob, record = files
    assert len(blob.name) == 32 and blob.parent.name == blob.name[:2]
    assert record.name == blob.name + ".meta"
    assert json.loads(record.read_text())["key"] == "../../etc/passwd"
    assert not list((root / "tmp").iterdir())


@pytest.mark.parametrize(
    "key",
    [
        "../../x",
        "a/../../b",
        "..\\..\\x",
        "%2e%2e/x",
        "a" * 1023,
        "/etc/passwd".lstrip("/"),
        "ü/é/😀",
    ],
)
def test_no_key_reaches_a_path_outside_the_data_dir(storage: Storage, tmp_path: Path, key: str):
    before = files_under(tmp_path)
    put(storage, key, BIG)
    small = key[:1000] + "~"
    put(storage, small, b"data")
    created = files_under(tmp_path) - before
    assert created and all(c.startswith("data/") for c in created)
    for name, body in ((key, BIG), (small, b"data")):
        meta, f = storage.open_object("bkt", name)
        with f:
            assert f.read() == body


@pytest.mark.parametrize(
    "key,message",
    [
        ("", "The Object name can not be empty."),
        ("/abs", "The specified object is not valid."),
        ("\\abs", "The specified object is not valid."),
        ("a" * 1024, "The Length of Object name must be less than 1024."),
        ("é" * 512, "The Length of Object name must be less than 1024."),
    ],
)
def test_invalid_object_names_are_refused_before_any_byte_is_stored(storage, key, message):
    with pytest.raises(OssError) as e:
        put(storage, key)
    assert (e.value.code, e.value.message) == ("InvalidObjectName", message)
    assert not list((storage.root / "blobs").glob("*/*"))


@pytest.mark.parametrize("key", ["nul\x00byte", "ctl\x07", "cr\r\nlf"])
def test_control_characters_are_valid_in_object_names_as_on_oss(storage, key):
    put(storage, key)
    assert storage.head_object("bkt", key).key == key


@pytest.mark.parametrize("name", ["ab", "-abc", "abc-", "ABC", "a_b", "a" * 64, "a.b"])
def test_invalid_bucket_names(storage, name):
    with pytest.raises(OssError) as e:
        storage.create_bucket(name)
    assert e.value.code == "InvalidBucketName"


def test_put_records_md5_crc_and_metadata(storage):
    meta = put(
        storage,
        "k",
        b"123456789",
        content_type="text/plain",
        headers={"x-oss-meta-a": "1", "cache-control": "no-cache"},
    )
    assert meta.etag == hashlib.md5(b"123456789").hexdigest().upper()
    assert meta.crc64 == 11051210869376104954
    assert storage.head_object("bkt", "k").headers == {
        "x-oss-meta-a": "1",
        "cache-control": "no-cache",
    }


@pytest.mark.parametrize("size", [9, INLINE_MAX + 1])
def test_a_put_hands_back_the_version_head_reads(storage, size):
    """What the commit returns (its meta, copied with the blob it got) is the stored row."""
    meta = put(storage, "k", b"x" * size, headers={"x-oss-meta-a": "1"}, tags={"t": "v"})
    assert meta == storage.head_object("bkt", "k")
    assert meta.blob and meta.headers == {"x-oss-meta-a": "1"} and meta.tags == {"t": "v"}


def test_wrong_content_md5_stores_nothing(storage):
    with pytest.raises(OssError) as e:
        put(storage, "k", b"abc", expected_md5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert e.value.code == "InvalidDigest"
    with pytest.raises(OssError):
        storage.head_object("bkt", "k")
    assert not list((storage.root / "tmp").iterdir())


def test_a_body_that_stops_early_leaves_the_old_version(storage):
    put(storage, "k", b"old")

    def broken():
        yield b"new-but-"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        storage.put_object("bkt", "k", broken())
    meta, f = storage.open_object("bkt", "k")
    with f:
        assert f.read() == b"old"
    assert not list((storage.root / "tmp").iterdir())


def test_short_body_is_incomplete_and_not_committed(storage):
    with pytest.raises(OssError) as e:
        put(storage, "k", b"abc", expected_size=10)
    assert e.value.code == "IncompleteBody"
    with pytest.raises(OssError):
        storage.head_object("bkt", "k")


def test_overwrite_replaces_and_frees_the_old_blob(storage):
    put(storage, "k", BIG)
    put(storage, "k", BIG + b"2")
    assert len(list((storage.root / "blobs").glob("*/????????????????????????????????"))) == 1


def test_forbid_overwrite(storage):
    put(storage, "k", b"one")
    with pytest.raises(OssError) as e:
        put(storage, "k", b"two", forbid_overwrite=True)
    assert e.value.code == "FileAlreadyExists"


def test_reader_keeps_whole_old_bytes_while_a_writer_commits(storage):
    put(storage, "k", b"A" * 1000)
    meta, f = storage.open_object("bkt", "k")
    put(storage, "k", b"B" * 10)
    with f:
        assert f.read() == b"A" * 1000


def test_listing_with_delimiter_and_pagination(storage):
    for key in ["a/1", "a/2", "b/x", "b/y/z", "c", "d/e/f", "e"]:
        put(storage, key)
    page = storage.list_objects("bkt", delimiter="/", max_keys=3)
    assert ([o.key for o in page.objects], page.common_prefixes) == (["c"], ["a/", "b/"])
    assert page.is_truncated and page.next_marker == "c"
    page = storage.list_objects("bkt", delimiter="/", marker="c", max_keys=3)
    assert ([o.key for o in page.objects], page.common_prefixes, page.is_truncated) == (
        ["e"],
        ["d/"],
        False,
    )
    page = storage.list_objects("bkt", prefix="b/", delimiter="/")
    assert ([o.key for o in page.objects], page.common_prefixes) == (["b/x"], ["b/y/"])


def test_listing_is_in_utf8_byte_order(storage):
    keys = ["z", "é", "a", "😀", "Z", "ａ"]
    for k in keys:
        put(storage, k)
    listed = [o.key for o in storage.list_objects("bkt").objects]
    assert listed == sorted(keys, key=lambda k: k.encode())


def test_delete_bucket_refuses_when_not_empty(storage):
    put(storage, "k")
    with pytest.raises(OssError) as e:
        storage.delete_bucket("bkt")
    assert e.value.code == "BucketNotEmpty"
    storage.delete_object("bkt", "k")
    storage.delete_bucket("bkt")
    with pytest.raises(OssError) as e:
        storage.get_bucket("bkt")
    assert e.value.code == "NoSuchBucket"


def test_orphan_blobs_and_dead_writers_temp_files_are_cleaned_at_start(tmp_path):
    s = Storage(tmp_path / "d")
    s.create_bucket("bkt")
    put(s, "k", b"kept")
    uncommitted = s.blobs.path_of("e" * 32)
    uncommitted.parent.mkdir(exist_ok=True)
    uncommitted.write_bytes(BIG)
    (uncommitted.parent / (uncommitted.name + ".meta")).write_text(
        json.dumps({"kind": "object", "bucket": "bkt", "key": "never-committed"})
    )
    unknown = s.blobs.path_of("f" * 32)  # no record: from an older version, or put there by hand
    unknown.parent.mkdir(exist_ok=True)
    unknown.write_bytes(b"orphan")
    dead_tmp = s.blobs.tmp_dir / "999999-deadbeef.0123"
    dead_tmp.write_bytes(b"half")
    (s.blobs.owner_dir / "999999-deadbeef.lock").write_text("")
    s.close()
    s2 = Storage(tmp_path / "d")
    assert not uncommitted.exists() and not dead_tmp.exists()
    assert not unknown.exists()
    assert (tmp_path / "d" / "lost+found" / unknown.name).read_bytes() == b"orphan"
    meta, f = s2.open_object("bkt", "k")
    with f:
        assert f.read() == b"kept"
    s2.close()


def test_a_blob_its_owner_unlinks_during_start_up_cleanup_is_skipped(storage, monkeypatch):
    """A live worker unlinks the blob its commit replaced after COMMIT, outside the writer
    lock, so a worker starting meanwhile may list a blob that is gone when it moves it: it
    once failed to boot on that (FileNotFoundError), found by the 4-worker reliability test."""
    put(storage, "k", BIG)
    gone = "0" * 32  # listed, then unlinked by its owner before the move
    listed = [*storage.blobs.all_blob_names(), gone]
    monkeypatch.setattr(storage.blobs, "all_blob_names", lambda: iter(listed))
    assert storage.collect_garbage() == 0
    assert not (storage.root / "lost+found" / gone).exists()
    meta, body = storage.open_object("bkt", "k")
    with body:
        assert body.read() == BIG


def test_a_live_process_temp_files_survive_another_process_start(tmp_path):
    s1 = Storage(tmp_path / "d")
    live_tmp = s1.blobs.new_temp_path()
    live_tmp.write_bytes(b"in flight")
    s2 = Storage(tmp_path / "d")
    assert live_tmp.exists()
    s2.close()
    s1.close()


def test_multipart_complete_joins_parts_and_drops_the_upload(storage):
    up = storage.multipart.initiate("bkt", "big", content_type="text/plain", headers={})
    p1_data, p2_data = os.urandom(100 * 1024), b"tail"
    p1 = storage.multipart.upload_part("bkt", "big", up.upload_id, 1, iter([p1_data]))
    p2 = storage.multipart.upload_part("bkt", "big", up.upload_id, 2, iter([p2_data]))
    meta = storage.multipart.complete("bkt", "big", up.upload_id, [(1, p1.etag), (2, p2.etag)])
    expected = hashlib.md5(bytes.fromhex(p1.etag) + bytes.fromhex(p2.etag)).hexdigest().upper()
    assert meta.etag == f"{expected}-2" and meta.object_type == "Multipart"
    assert meta.crc64 == crc64(p1_data + p2_data) and meta.size == len(p1_data) + 4
    with pytest.raises(OssError) as e:
        storage.multipart.list_parts("bkt", "big", up.upload_id)
    assert e.value.code == "NoSuchUpload"
    assert len(list((storage.root / "blobs").glob("*/????????????????????????????????"))) == 1


@pytest.mark.parametrize(
    "chosen,code",
    [
        ([(2, "P2"), (1, "P1")], "InvalidPartOrder"),
        ([(1, "P1"), (3, "0" * 32)], "InvalidPart"),
        ([(1, "0" * 32)], "InvalidPart"),
        ([(1, "P1"), (2, "P2"), (4, "P4")], "EntityTooSmall"),
    ],
)
def test_multipart_complete_errors_commit_nothing(storage, chosen, code):
    up = storage.multipart.initiate("bkt", "k", content_type="x/y", headers={})
    etags = {}
    for n, size in ((1, 100 * 1024), (2, 10), (4, 10)):
        etags[f"P{n}"] = storage.multipart.upload_part(
            "bkt", "k", up.upload_id, n, iter([b"x" * size])
        ).etag
    parts = [(n, etags.get(tag, tag)) for n, tag in chosen]
    with pytest.raises(OssError) as e:
        storage.multipart.complete("bkt", "k", up.upload_id, parts)
    assert e.value.code == code
    with pytest.raises(OssError):
        storage.head_object("bkt", "k")
    assert len(storage.multipart.list_parts("bkt", "k", up.upload_id).parts) == 3


@pytest.mark.parametrize("number", [0, 10001, -1])
def test_part_number_out_of_range(storage, number):
    up = storage.multipart.initiate("bkt", "k", content_type="x/y", headers={})
    with pytest.raises(OssError) as e:
        storage.multipart.upload_part("bkt", "k", up.upload_id, number, iter([b"x"]))
    assert e.value.code == "InvalidArgument"


def test_uploads_survive_a_restart(tmp_path):
    s = Storage(tmp_path / "d")
    s.create_bucket("bkt")
    up = s.multipart.initiate("bkt", "k", content_type="x/y", headers={})
    s.multipart.upload_part("bkt", "k", up.upload_id, 1, iter([b"part"]))
    s.close()
    s2 = Storage(tmp_path / "d")
    page = s2.multipart.list_parts("bkt", "k", up.upload_id)
    assert [p.part_number for p in page.parts] == [1]
    meta = s2.multipart.complete("bkt", "k", up.upload_id, None)
    assert meta.size == 4
    s2.close()


def test_a_page_ending_on_a_common_prefix_does_not_repeat_it(storage):
    for key in ["a", "b/1", "b/2", "c"]:
        put(storage, key)
    first = storage.list_objects("bkt", delimiter="/", max_keys=2)
    assert ([o.key for o in first.objects], first.common_prefixes) == (["a"], ["b/"])
    second = storage.list_objects("bkt", delimiter="/", marker=first.next_marker, max_keys=2)
    assert ([o.key for o in second.objects], second.common_prefixes) == (["c"], [])
    # A marker that is a key inside a folded prefix skips the rest of that prefix too.
    third = storage.list_objects("bkt", delimiter="/", marker="b/1")
    assert ([o.key for o in third.objects], third.common_prefixes) == (["c"], [])


def test_a_data_dir_from_before_storage_classes_opens_with_standard_everywhere(tmp_path):
    old = sqlite3.connect(tmp_path / "index.sqlite3")
    old.executescript(
        "CREATE TABLE buckets (name TEXT PRIMARY KEY, created REAL NOT NULL,"
        " region TEXT NOT NULL) WITHOUT ROWID;"
        "INSERT INTO buckets VALUES ('old', 0, 'cn-hangzhou');"
    )
    old.close()
    store = Storage(tmp_path)
    try:
        assert store.get_bucket("old").storage_class == "Standard"
        put = store.put_object("old", "k", iter([b"x"]))
        assert (put.storage_class, put.tags) == ("Standard", {})
        assert store.head_object("old", "k").storage_class == "Standard"
    finally:
        store.close()


def test_an_index_from_before_the_mark_is_adopted_when_it_names_something(tmp_path):
    s = Storage(tmp_path / "d")
    s.create_bucket("bkt")
    blob = put(s, "k", BIG).blob
    s.close()
    with sqlite3.connect(tmp_path / "d" / "index.sqlite3") as db:
        db.execute("DROP TABLE ossemu_meta")  # as an index written by an older ossemu
    s2 = Storage(tmp_path / "d")
    assert s2.blobs.path_of(blob).exists()
    meta, f = s2.open_object("bkt", "k")
    with f:
        assert f.read() == BIG
    s2.close()


def test_a_record_whose_blob_is_gone_is_removed_at_start(tmp_path):
    s = Storage(tmp_path / "d")
    s.create_bucket("bkt")
    blob = s.blobs.path_of(put(s, "k", BIG).blob)
    s.close()
    stray = blob.with_name("c" * 32 + ".meta")  # a crash between a blob's unlink and its record's
    stray.write_text("{}")
    Storage(tmp_path / "d").close()
    assert not stray.exists() and blob.exists()
