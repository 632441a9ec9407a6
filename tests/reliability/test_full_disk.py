"""A full disk answers ``507 InsufficientStorage`` with one log line, and loses nothing.

``ossemu serve`` runs in its own mount namespace (``unshare``) with its data dir on a 3 MiB
tmpfs, so the disk really fills: the kernel answers ENOSPC to the blob writes and SQLite answers
SQLITE_FULL. Uploads past the limit must get OSS-style 507 errors (no 500, no traceback), every
acknowledged object must read back whole, and once space is freed uploads work again.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

from tests.reliability.helpers import BUCKET, ENV, raw_request

LISTENING = re.compile(r"ossemu listening on http://127\.0\.0\.1:(\d+) ")


def test_full_disk_answers_507_and_keeps_acknowledged_objects(tmp_path):
    assert shutil.which("unshare"), "util-linux unshare is needed to give the server a small disk"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=3m tmpfs "$0" && exec "$@"']
            + [str(data_dir), sys.executable, "-m", "ossemu.emulator", "serve", "--port", "0"]
            + ["--data-dir", str(data_dir), "--workers", "1"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, **ENV},
        )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = LISTENING.match(line)
        assert match, f"serve did not start: {line!r} {log.read_text()}"
        port = int(match.group(1))
        assert raw_request(port, "PUT", BUCKET, None).status == 200
        stored: dict[str, bytes] = {}
        refused = []
        for i in range(40):  # 256 KiB blobs and 16 KiB inline bodies, until the disk is full
            key, body = (f"big/{i}", os.urandom(256 * 1024)) if i % 2 else (f"s/{i}", b"s" * 16384)
            got = raw_request(port, "PUT", BUCKET, key, body=body)
            if got.status == 200:
                stored[key] = body
            else:
                assert (got.status, got.code) == (507, "InsufficientStorage"), got
                refused.append(key)
        assert stored and len(refused) >= 5, (len(stored), refused)
        assert any(k.startswith("big/") for k in refused)
        for key, body in stored.items():
            got = raw_request(port, "GET", BUCKET, key)
            assert (got.status, got.body) == (200, body), key
        for key in refused:
            assert raw_request(port, "HEAD", BUCKET, key).status == 404, key
        for key in [k for k in stored if k.startswith("big/")][:4]:  # free some space
            assert raw_request(port, "DELETE", BUCKET, key).status == 204
            del stored[key]
        retry = os.urandom(256 * 1024)
        assert raw_request(port, "PUT", BUCKET, "after", body=retry).status == 200
        assert raw_request(port, "GET", BUCKET, "after").body == retry
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    full_lines = [ln for ln in text.splitlines() if "InsufficientStorage" in ln or " 507 " in ln]
    assert len(full_lines) == len(refused), text[-3000:]
