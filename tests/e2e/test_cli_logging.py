"""`ossemu serve --log-format json`: a parseable line per request, levels respected, no secrets."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from ossemu.client import Callback, CallbackError, Client, NoSuchKey

KEY_ID, SECRET = "log-test-key", "log-test-secret-never-printed"
STARTED = re.compile(r"^ossemu listening on (http://127\.0\.0\.1:\d+) ")


def run_server(tmp_path, *extra: str):
    """Start `ossemu serve` on port 0; yields its URL, then holds (stdout, stderr) once stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ossemu.emulator", "serve", "--port", "0"]
        + ["--data-dir", str(tmp_path / "data"), "--log-format", "json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OSS_ACCESS_KEY_ID": KEY_ID, "OSS_ACCESS_KEY_SECRET": SECRET},
    )
    first = proc.stdout.readline()
    match = STARTED.match(first)
    if not match:
        proc.kill()
        pytest.fail(f"unexpected startup line {first!r}: {proc.communicate()[1]}")
    return proc, match.group(1)


def stop(proc: subprocess.Popen) -> tuple[str, list[dict]]:
    """SIGINT, then (everything printed, the JSON log lines)."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return out + err, lines


def some_requests(url: str) -> None:
    with Client(url, KEY_ID, SECRET) as client:
        bucket = client.create_bucket("logs")
        bucket.put_object("k", b"data")
        bucket.get_object("k")
        with pytest.raises(NoSuchKey):
            bucket.get_object("missing")
    forged = requests.get(f"{url}/logs/k", headers={"Authorization": f"OSS {KEY_ID}:bm9wZQ=="})
    assert forged.status_code == 403


def test_json_logs_one_access_line_per_request(tmp_path):
    proc, url = run_server(tmp_path)
    try:
        some_requests(url)
    finally:
        printed, lines = stop(proc)
    access = [line for line in lines if "method" in line]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("PUT", "/logs/", 200),
        ("PUT", "/logs/k", 200),
        ("GET", "/logs/k", 200),
        ("GET", "/logs/missing", 404),
        ("GET", "/logs/k", 403),
    ]
    for line in access:
        assert re.fullmatch(r"[0-9A-F]{24}", line["request_id"])
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
        assert line["level"] == "info" and line["logger"].startswith("ossemu")
    assert SECRET not in printed


def test_json_logs_one_line_per_callback_delivery(tmp_path, callback_receiver):
    proc, url = run_server(tmp_path)
    try:
        with Client(url, KEY_ID, SECRET) as client:
            bucket = client.create_bucket("logs")
            bucket.put_object("ok", b"x", callback=Callback(url=callback_receiver.url))
            callback_receiver.respond_with(500)
            with pytest.raises(CallbackError):
                bucket.put_object("bad", b"x", callback=Callback(url=callback_receiver.url))
    finally:
        printed, lines = stop(proc)
    deliveries = [(d["key"], d["outcome"]) for d in lines if "outcome" in d]
    assert deliveries == [("ok", "ok"), ("bad", "failed")]
    assert SECRET not in printed


def test_log_level_warning_silences_access_lines(tmp_path):
    proc, url = run_server(tmp_path, "--log-level", "WARNING")
    try:
        some_requests(url)
    finally:
        printed, lines = stop(proc)
    assert [line for line in lines if "method" in line] == []
    assert all(line["level"] in ("warning", "error", "critical") for line in lines)
    assert SECRET not in printed
