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
    try:
        started = json.loads(first)
    except ValueError:
        started = {}
    match = STARTED.match(started.get("message", ""))
    if not match:
        proc.kill()
        pytest.fail(f"unexpected startup line {first!r}: {proc.communicate()[1]}")
    assert started["url"] == match.group(1)
    assert started["data_dir"] == str((tmp_path / "data").resolve())
    return proc, match.group(1)


def stop(proc: subprocess.Popen) -> tuple[str, list[dict]]:
    """SIGINT, then (everything printed, every line of stderr and stdout parsed as JSON)."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return out + err, [parse(line) for line in (err + out).splitlines()]


def parse(line: str) -> dict:
    """One line of output, which must be a JSON object in the usual shape."""
    try:
        entry = json.loads(line)
    except ValueError:
        pytest.fail(f"not a JSON line: {line!r}")
    assert {"time", "level", "logger", "message"} <= entry.keys(), line
    return entry


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
    # The start-up lines (key id, "ossemu listening on") are printed whatever the level.
    logged = [line for line in lines if not line["message"].startswith("ossemu")]
    assert all(line["level"] in ("warning", "error", "critical") for line in logged)
    assert SECRET not in printed


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_json_format_makes_every_line_json_start_up_lines_included(
    tmp_path, callback_receiver, server
):
    proc, url = run_server(tmp_path, "--server", server, "--log-level", "DEBUG")
    try:
        some_requests(url)
        with Client(url, KEY_ID, SECRET) as client:
            bucket = client.get_bucket("logs")
            bucket.put_object("cb", b"x", callback=Callback(url=callback_receiver.url))
    finally:
        printed, lines = stop(proc)  # fails on any line that is not JSON
    messages = [line["message"] for line in lines]
    assert f"ossemu: access key id {KEY_ID} (configured); signatures checked" in messages
    # run_server has read stdout's first line, "ossemu listening on", as JSON; nothing follows.
    assert not [m for m in messages if m.startswith("ossemu listening on")]
    if server == "gunicorn":
        assert any(m.startswith("Booting worker with pid") for m in messages), messages
        assert any(m.startswith("Listening at: ") for m in messages), messages
    access = [(line["method"], line["path"]) for line in lines if "method" in line]
    assert access[:5] == [
        ("PUT", "/logs/"),
        ("PUT", "/logs/k"),
        ("GET", "/logs/k"),
        ("GET", "/logs/missing"),
        ("GET", "/logs/k"),
    ]
    assert ("PUT", "/logs/cb") in access
    assert [(d["key"], d["outcome"]) for d in lines if "outcome" in d] == [("cb", "ok")]
    assert SECRET not in printed


def test_json_format_under_ossemu_dev_covers_the_receivers_lines(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "ossemu.emulator", "dev", "--port", "0", "--receiver-port", "0"]
        + ["--data-dir", str(tmp_path / "data"), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OSS_ACCESS_KEY_ID": KEY_ID, "OSS_ACCESS_KEY_SECRET": SECRET},
    )
    try:
        # Read here, all of them: communicate() would not see what readline() has buffered.
        started = [parse(proc.stdout.readline()) for _ in range(6)]
        url, receiver_url = started[0]["url"], started[1]["receiver_url"]
        assert started[3]["message"].startswith("direct-upload page on ")
        assert started[4]["message"].startswith("examplebucket: CORS allows ")
        assert started[5]["message"] == "Ctrl-C stops both."
        with Client(url, KEY_ID, SECRET) as client:
            bucket = client.get_bucket("examplebucket")
            bucket.put_object(
                "cb", b"x", callback=Callback(url=receiver_url, query={"user": "dev"})
            )
            with pytest.raises(CallbackError):
                bucket.put_object("cb", b"x", callback=Callback(url=f"{receiver_url}/fail/"))
    finally:
        printed, lines = stop(proc)
    received = [line["message"] for line in lines if line["logger"] == "ossemu.receiver"]
    assert [m.split(" ")[:3] for m in received] == [
        ["POST", "/?user=dev", "verified"],
        ["POST", "/fail/", "verified"],
    ]
    assert SECRET not in printed


def test_json_format_covers_pythons_exception_ignored_lines(tmp_path):
    """An exception Python can only ignore (a failing ``__del__``, a weakref callback at exit)
    prints "Exception ignored in: ..." on stderr; under --log-format json that is JSON too."""
    code = (
        "from ossemu.emulator import logs\n"
        "logs.configure('INFO', 'json')\n"
        "class Broken:\n"
        "    def __del__(self):\n"
        "        raise RuntimeError('boom')\n"
        "Broken()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    (entry,) = [parse(line) for line in result.stderr.splitlines()]
    assert entry["message"].startswith("Exception ignored in: <function Broken.__del__")
    assert "RuntimeError: boom" in json.dumps(entry)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_exit_a_signal_asked_for_is_not_reported_as_an_error(fmt):
    """A SIGINT's SystemExit can land inside a weakref callback as the process stops; Python
    would print "Exception ignored in: ... SystemExit: 0" and a traceback for it."""
    code = (
        "from ossemu.emulator import logs\n"
        f"logs.configure('INFO', {fmt!r})\n"
        "class Stopping:\n"
        "    def __del__(self):\n"
        "        raise SystemExit(0)\n"
        "Stopping()\n"
        "class Broken:\n"
        "    def __del__(self):\n"
        "        raise RuntimeError('boom')\n"
        "Broken()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "SystemExit" not in result.stderr
    assert "RuntimeError: boom" in result.stderr  # a real error still shows
