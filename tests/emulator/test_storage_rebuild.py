"""A lost index rebuilt from the blobs' records gives every object back as it was stored."""

from __future__ import annotations

import os

from ossemu.emulator.storage import Storage
from ossemu.emulator.storage.rebuild import rebuild_index


def test_rebuilt_objects_keep_class_tags_acl_and_metadata(tmp_path):
    body = os.urandom(100 * 1024)  # above the inline limit: a blob file with its record
    store = Storage(tmp_path)
    store.create_bucket("bkt")
    store.put_object(
        "bkt",
        "report.csv",
        iter([body]),
        content_type="text/csv",
        headers={"x-oss-meta-owner": "zoë"},
        acl="public-read",
        storage_class="IA",
        tags={"team": "data"},
    )
    store.close()
    (tmp_path / "index.sqlite3").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"index.sqlite3{suffix}").unlink(missing_ok=True)

    rebuild_index(tmp_path, region="cn-hangzhou")

    store = Storage(tmp_path)
    try:
        meta = store.head_object("bkt", "report.csv")
        assert (meta.storage_class, meta.tags, meta.acl) == ("IA", {"team": "data"}, "public-read")
        assert (meta.content_type, meta.headers) == ("text/csv", {"x-oss-meta-owner": "zoë"})
        _, f = store.open_object("bkt", "report.csv")
        with f:
            assert f.read() == body
    finally:
        store.close()
