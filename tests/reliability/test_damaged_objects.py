"""Damaged bytes are never served as whole, and ``ossemu fsck`` names every kind of damage.

A real ``ossemu serve`` stores objects; the test then damages the data dir on purpose, as a disk
or a person would: truncates a blob, flips a byte in a blob and in an inline body, deletes a blob,
corrupts a part, and drops an orphan file in ``blobs/``. GET must never answer 200 with a body
shorter than its ``Content-Length``; the real ``ossemu fsck`` CLI must report each damage (text
and ``--json``) with a non-zero exit, and ``--repair`` only moves the orphan to ``lost+found/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ossemu.emulator.storage.inline import NAME_SQL
from tests.reliability.helpers import BUCKET, ENV, ServeProcess, raw_request, signed_headers
from tests.support import wire

BODIES = {key: os.urandom(100 * 1024) for key in ("truncated", "flipped", "deleted", "intact")}


def fsck(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", "fsck", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **ENV},
    )


def blob_path(data_dir: Path, key: str) -> Path:
    with sqlite3.connect(data_dir / "index.sqlite3") as db:
        (name,) = db.execute("SELECT blob FROM objects WHERE key = ?", (key,)).fetchone()
    return data_dir / "blobs" / name[:2] / name


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """A served data dir with one object of each kind of damage; yields (server, data_dir)."""
    data_dir = tmp_path_factory.mktemp("damaged") / "data"
    server = ServeProcess(data_dir)
    try:
        assert raw_request(server.port, "PUT", BUCKET, None).status == 200
        for key, body in BODIES.items():
            assert raw_request(server.port, "PUT", BUCKET, key, body=body).status == 200
        assert raw_request(server.port, "PUT", BUCKET, "small", body=b"inline body").status == 200
        upload = raw_request(server.port, "POST", BUCKET, "mp", params=[("uploads", "")]).body
        upload_id = upload.split(b"<UploadId>")[1].split(b"<")[0].decode()
        part = raw_request(
            server.port,
            "PUT",
            BUCKET,
            "mp",
            params=[("partNumber", "1"), ("uploadId", upload_id)],
            body=os.urandom(200 * 1024),
        )
        assert part.status == 200

        path = blob_path(data_dir, "truncated")
        path.write_bytes(path.read_bytes()[:1000])
        path = blob_path(data_dir, "flipped")
        data = bytearray(path.read_bytes())
        data[5000] ^= 0xFF
        path.write_bytes(bytes(data))
        blob_path(data_dir, "deleted").unlink()
        with sqlite3.connect(data_dir / "index.sqlite3") as db:
            db.execute(
                f"UPDATE inline_blobs SET data = ? WHERE {NAME_SQL} ="
                " (SELECT blob FROM objects WHERE key = 'small')",
                (b"inline bodY",),
            )
            (part_blob,) = db.execute("SELECT blob FROM parts").fetchone()
        part_path = data_dir / "blobs" / part_blob[:2] / part_blob
        part_path.write_bytes(b"\0" + part_path.read_bytes()[1:])
        orphan = data_dir / "blobs" / "ff" / ("f" * 32)
        orphan.parent.mkdir(exist_ok=True)
        orphan.write_bytes(b"nobody knows me")
        yield server, data_dir
    finally:
        assert server.stop() == 0


def test_get_of_a_truncated_blob_never_declares_more_than_it_sends(damaged):
    server, _ = damaged
    got = raw_request(server.port, "GET", BUCKET, "truncated")
    assert got.status == 500 and got.code == "InternalError"
    assert b"damaged" in got.body and b"ossemu fsck" in got.body
    ranged = raw_request(server.port, "GET", BUCKET, "truncated", headers={"Range": "bytes=0-9"})
    assert ranged.status == 500
    assert "Traceback" not in server.log_text()


def test_get_of_an_object_whose_blob_was_deleted_says_it_is_damaged(damaged):
    server, _ = damaged
    got = raw_request(server.port, "GET", BUCKET, "deleted")
    assert got.status == 500 and b"its blob file is missing" in got.body
    intact = raw_request(server.port, "GET", BUCKET, "intact")
    assert (intact.status, intact.body) == (200, BODIES["intact"])


def test_fsck_reports_each_damage_and_exits_non_zero(damaged):
    _, data_dir = damaged
    result = fsck(data_dir, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    found = {(p["kind"], p["key"] or p["blob"]) for p in report["problems"]}
    assert found == {
        ("size", "truncated"),
        ("md5", "flipped"),
        ("missing", "deleted"),
        ("md5", "small"),
        ("md5", "mp"),
        ("orphan", "f" * 32),
    }, report
    assert report["objects"] == 5 and report["inline_objects"] == 1 and report["parts"] == 1

    text = fsck(data_dir)
    assert text.returncode == 1
    assert f"missing       {BUCKET}/deleted: its stored bytes are gone" in text.stdout
    assert text.stdout.splitlines()[-1].endswith("6 problem(s)")


def test_fsck_repair_moves_the_orphan_to_lost_and_found_and_deletes_nothing(damaged):
    _, data_dir = damaged
    files_before = {p.name for p in (data_dir / "blobs").glob("*/*")}
    repaired = fsck(data_dir, "--repair", "--json")
    assert repaired.returncode == 1  # the damaged objects are still damaged
    assert json.loads(repaired.stdout)["moved_to_lost_and_found"] == ["f" * 32]
    assert (data_dir / "lost+found" / ("f" * 32)).read_bytes() == b"nobody knows me"
    assert {p.name for p in (data_dir / "blobs").glob("*/*")} == files_before - {"f" * 32}
    again = json.loads(fsck(data_dir, "--json").stdout)
    assert not [p for p in again["problems"] if p["kind"] == "orphan"]


def test_a_blob_cut_short_while_it_is_sent_ends_the_connection(tmp_path):
    """gunicorn sends the file with ``sendfile``: when the file shrinks under it, the response
    must not end short and the connection live on (the next answer would read as body bytes)."""
    data_dir = tmp_path / "data"
    server = ServeProcess(data_dir)
    try:
        body = os.urandom(64 * 1024 * 1024)
        assert raw_request(server.port, "PUT", BUCKET, None).status == 200
        assert raw_request(server.port, "PUT", BUCKET, "huge", body=body).status == 200
        head = "".join(
            f"{k}: {v}\r\n"
            for k, v in signed_headers("GET", BUCKET, "huge", [], {"Host": "x"}).items()
        )
        second = "".join(
            f"{k}: {v}\r\n"
            for k, v in signed_headers("GET", BUCKET, "none", [], {"Host": "x"}).items()
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            sock.sendall(wire(f"GET /{BUCKET}/huge HTTP/1.1\r\n{head}\r\n"))
            received = b""
            while len(received) < 1024 * 1024:
                received += sock.recv(65536)
            os.truncate(blob_path(data_dir, "huge"), 2 * 1024 * 1024)
            with contextlib.suppress(OSError):  # the server may have hung up already
                sock.sendall(wire(f"GET /{BUCKET}/none HTTP/1.1\r\n{second}\r\n"))
            with contextlib.suppress(ConnectionResetError):  # a reset is a hang-up too
                while chunk := sock.recv(1024 * 1024):
                    received += chunk
        headers, _, sent = received.partition(b"\r\n\r\n")
        assert b"200 OK" in headers.split(b"\r\n")[0]
        assert len(sent) < len(body), "the whole body arrived: the truncation came too late"
        assert b"HTTP/1.1 404" not in sent, "the connection lived on after a short body"
    finally:
        assert server.stop() == 0
