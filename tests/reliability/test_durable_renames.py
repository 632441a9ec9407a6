"""The rename of a new blob into ``blobs/`` is made durable before its row commits.

A rename is only on disk once its directory is fsync'd; without that, a power cut can keep the
committed row (the WAL was fsync'd) and lose the blob's name. A power cut cannot be simulated
without a block-device layer, so this test watches the system calls themselves: ``os.replace`` and
``os.fsync`` are wrapped (each still runs) while the real in-process emulator takes a real PUT,
and the directory that received the blob must be fsync'd after the rename. Nothing of ossemu is
replaced: the wrappers only record.
"""

from __future__ import annotations

import os
import stat

from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer
from tests.reliability.helpers import BUCKET, KEY_ID, SECRET, raw_request


def test_put_object_fsyncs_the_blob_directory_after_the_rename(tmp_path, monkeypatch):
    calls: list[tuple[str, object]] = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src, dst, **kw):
        real_replace(src, dst, **kw)
        calls.append(("rename", os.stat(os.path.dirname(dst)).st_ino))

    def fsync(fd):
        real_fsync(fd)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            calls.append(("fsync-dir", st.st_ino))

    config = EmulatorConfig(
        data_dir=tmp_path / "data", port=0, access_key_id=KEY_ID, access_key_secret=SECRET
    )
    with EmulatorServer(config) as server:
        assert raw_request(server.port, "PUT", BUCKET, None).status == 200
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "fsync", fsync)
        body = os.urandom(200 * 1024)  # past the inline limit: a blob file
        assert raw_request(server.port, "PUT", BUCKET, "big", body=body).status == 200
        monkeypatch.undo()
        got = raw_request(server.port, "GET", BUCKET, "big")
        assert (got.status, got.body) == (200, body)
    blob_dirs = {p.parent.stat().st_ino for p in (tmp_path / "data" / "blobs").glob("*/*")}
    renames = [i for i, (what, ino) in enumerate(calls) if what == "rename" and ino in blob_dirs]
    assert renames, f"no rename into blobs/ was seen: {calls}"
    synced_after = [
        i for i, (what, ino) in enumerate(calls) if what == "fsync-dir" and ino in blob_dirs
    ]
    assert synced_after and max(synced_after) > max(renames), (
        f"blobs/ was not fsync'd after the rename: {calls}"
    )
