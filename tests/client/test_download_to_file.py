"""``get_object(to_file=...)`` writes a file as ``open(path, "w")`` would: umask, kept modes."""

from __future__ import annotations

import os
import stat

from ossemu.client.download import write_atomically


def test_a_new_file_gets_0666_less_the_umask(oss_bucket, tmp_path):
    oss_bucket.put_object("k", b"body")
    old = os.umask(0o027)
    try:
        oss_bucket.get_object("k", to_file=tmp_path / "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o640


def test_an_existing_file_keeps_its_mode_and_gets_the_new_bytes(oss_bucket, tmp_path):
    oss_bucket.put_object("k", b"new body")
    target = tmp_path / "existing"
    target.write_bytes(b"old")
    target.chmod(0o604)
    oss_bucket.get_object("k", to_file=target)
    assert target.read_bytes() == b"new body"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"], "no temp file left"


def test_progress_reports_every_byte_written(oss_bucket, tmp_path):
    body = os.urandom(600 * 1024)
    oss_bucket.put_object("big", body)
    seen: list[tuple[int, int | None]] = []
    stream = oss_bucket.get_object("big", stream=True)
    meta = write_atomically(stream, tmp_path / "big", progress=lambda d, t: seen.append((d, t)))
    assert meta.size == len(body) and (tmp_path / "big").read_bytes() == body
    assert seen[-1] == (len(body), len(body))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
