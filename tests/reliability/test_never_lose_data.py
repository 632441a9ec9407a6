"""Start-up never deletes what it cannot account for, and says in one line how to recover.

Each test fills a data dir through a real ``ossemu serve``, damages the index as a person or a
disk would (deleted, emptied, overwritten with garbage), and starts ``ossemu serve`` again: it
must refuse with one line (no traceback) naming ``ossemu fsck --rebuild-index``, leave every
blob file in place, and serve the same bytes once that command has run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ossemu.emulator.config import EmulatorConfig
from ossemu.emulator.server import EmulatorServer
from ossemu.emulator.storage.startup import DataDirError
from tests.reliability.helpers import BUCKET, ENV, KEY_ID, SECRET, ServeProcess, raw_request
from tests.support import INNER_PYTEST

BIG = {f"big/{i}": os.urandom(70 * 1024 + i) for i in range(3)}  # blob files, not inline


def ossemu(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **ENV},
    )


def fill(data_dir: Path) -> None:
    server = ServeProcess(data_dir)
    try:
        assert raw_request(server.port, "PUT", BUCKET, None).status == 200
        for key, body in BIG.items():
            assert raw_request(server.port, "PUT", BUCKET, key, body=body).status == 200
        assert raw_request(server.port, "PUT", BUCKET, "small", body=b"inline").status == 200
    finally:
        assert server.stop() == 0


def blob_files(data_dir: Path) -> dict[str, str]:
    return {
        p.name: hashlib.md5(p.read_bytes()).hexdigest()
        for p in (data_dir / "blobs").glob("*/*")
        if p.is_file()
    }


def assert_refused_in_one_line(data_dir: Path, *serve_args: str, why: str) -> None:
    result = ossemu("serve", "--port", "0", "--data-dir", str(data_dir), *serve_args)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert why in lines[0] and f"ossemu fsck --rebuild-index --data-dir {data_dir}" in lines[0]


def assert_serves_the_blobs_again(data_dir: Path) -> None:
    server = ServeProcess(data_dir)
    try:
        for key, body in BIG.items():
            got = raw_request(server.port, "GET", BUCKET, key)
            assert (got.status, got.body) == (200, body), key
    finally:
        assert server.stop() == 0


def delete_index(data_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data_dir}/index.sqlite3{suffix}").unlink(missing_ok=True)


def empty_index(data_dir: Path) -> None:
    delete_index(data_dir)
    (data_dir / "index.sqlite3").write_bytes(b"")


@pytest.mark.parametrize("damage", [delete_index, empty_index], ids=["deleted", "emptied"])
def test_serve_refuses_a_lost_index_and_fsck_rebuilds_it(tmp_path, damage):
    data_dir = tmp_path / "data"
    fill(data_dir)
    before = blob_files(data_dir)
    damage(data_dir)
    for serve_args in [(), ("--server", "werkzeug")]:
        assert_refused_in_one_line(data_dir, *serve_args, why="is missing or empty")
    assert blob_files(data_dir) == before, "start-up deleted or changed blob files"

    rebuilt = ossemu("fsck", "--rebuild-index", "--data-dir", str(data_dir))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "1 buckets, 3 objects" in rebuilt.stdout
    assert blob_files(data_dir) == before
    assert_serves_the_blobs_again(data_dir)
    checked = ossemu("fsck", "--data-dir", str(data_dir))
    assert checked.returncode == 0, checked.stdout


def test_serve_refuses_garbage_in_the_index_and_fsck_moves_it_aside(tmp_path):
    data_dir = tmp_path / "data"
    fill(data_dir)
    delete_index(data_dir)
    garbage = os.urandom(8192)
    (data_dir / "index.sqlite3").write_bytes(garbage)
    for serve_args in [(), ("--server", "werkzeug")]:
        assert_refused_in_one_line(data_dir, *serve_args, why="is not a usable SQLite index")

    rebuilt = ossemu("fsck", "--rebuild-index", "--data-dir", str(data_dir))
    assert rebuilt.returncode == 0, rebuilt.stderr
    (aside,) = data_dir.glob("index.sqlite3.broken-*")
    assert aside.read_bytes() == garbage, "the bad index was not kept"
    assert_serves_the_blobs_again(data_dir)


def test_in_process_server_refuses_a_lost_index_with_one_line(tmp_path):
    data_dir = tmp_path / "data"
    fill(data_dir)
    delete_index(data_dir)
    config = EmulatorConfig(
        data_dir=data_dir, port=0, access_key_id=KEY_ID, access_key_secret=SECRET
    )
    with pytest.raises(DataDirError) as refused:
        EmulatorServer(config)
    assert "\n" not in str(refused.value) and "--rebuild-index" in str(refused.value)
    assert len(blob_files(data_dir)) == 2 * len(BIG)  # each blob and its record


def test_pytest_plugin_reports_a_bad_index_in_one_line(pytester, tmp_path):
    data_dir = tmp_path / "data"
    fill(data_dir)
    (data_dir / "index.sqlite3").write_bytes(b"not a database at all" * 100)
    pytester.makeconftest(
        f"""
from pathlib import Path

import pytest
from ossemu.emulator.config import EmulatorConfig

@pytest.fixture(scope="session")
def oss_emulator_config():
    return EmulatorConfig(data_dir=Path({str(data_dir)!r}), port=0)
"""
    )
    pytester.makepyfile("def test_uses_it(oss_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess(*INNER_PYTEST, "-p", "no:xdist")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert "is not a usable SQLite index" in text and "--rebuild-index" in text
    assert "Traceback" not in text and "storage/index.py" not in text


def test_fsck_repair_gives_blobs_from_before_records_one_so_they_can_be_rebuilt(tmp_path):
    data_dir = tmp_path / "data"
    fill(data_dir)
    for record in (data_dir / "blobs").glob("*/*.meta"):  # as a data dir of an older ossemu
        record.unlink()
    assert ossemu("fsck", "--data-dir", str(data_dir)).returncode == 0
    repaired = ossemu("fsck", "--repair", "--json", "--data-dir", str(data_dir))
    assert json.loads(repaired.stdout)["records_written"] == len(BIG)
    delete_index(data_dir)
    assert ossemu("fsck", "--rebuild-index", "--data-dir", str(data_dir)).returncode == 0
    assert_serves_the_blobs_again(data_dir)


def test_serve_and_fsck_refuse_a_data_dir_a_newer_ossemu_wrote(tmp_path):
    from ossemu.emulator.storage.startup import FORMAT

    data_dir = tmp_path / "data"
    fill(data_dir)
    with contextlib.closing(sqlite3.connect(data_dir / "index.sqlite3")) as db, db:
        db.execute("INSERT OR REPLACE INTO ossemu_meta VALUES ('format', ?)", (str(FORMAT + 1),))
    before = blob_files(data_dir)
    for command in (("serve", "--port", "0"), ("serve", "--port", "0", "--server", "werkzeug")):
        result = ossemu(*command, "--data-dir", str(data_dir))
        assert result.returncode == 2 and result.stdout == "", result.stderr
        (line,) = result.stderr.splitlines()
        assert "newer ossemu" in line and f"data format {FORMAT + 1}" in line
    for command in (("fsck",), ("fsck", "--repair"), ("fsck", "--rebuild-index")):
        checked = ossemu(*command, "--data-dir", str(data_dir))
        assert checked.returncode == 2 and checked.stdout == "", checked.stdout
        (line,) = checked.stderr.splitlines()
        assert "newer ossemu" in line, line
    assert blob_files(data_dir) == before
    assert not list(data_dir.glob("index.sqlite3.broken-*")), "the index was moved aside"
