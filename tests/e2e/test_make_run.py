"""`make run` is `ossemu dev`: emulator + receiver, the seed's bucket ready, Ctrl-C stops both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import oss2
import pytest
import requests

from ossemu.client import Callback, CallbackError, Client

ROOT = Path(__file__).resolve().parents[2]


def test_dev_starts_both_creates_examplebucket_and_stops_cleanly(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ossemu.emulator",
            "dev",
            "--port",
            "0",
            "--receiver-port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        emulator = re.match(r"ossemu listening on (\S+) ", proc.stdout.readline()).group(1)
        receiver = re.match(
            r"callback receiver listening on (\S+)$", proc.stdout.readline().strip()
        ).group(1)
        with Client(emulator, "ossemu-dev-key", "ossemu-dev-secret") as client:
            bucket = client.get_bucket("examplebucket")
            result = bucket.put_object(
                "files/hello",
                b"hello",
                callback=Callback(url=receiver, query={"user": "put_object"}),
            )
            assert result.callback_json() == {"Status": "OK"}
            with pytest.raises(CallbackError, match=r"Error status : 500\."):
                bucket.put_object("files/fails", b"x", callback=Callback(url=receiver + "/fail/"))
            assert bucket.get_object("files/fails") == b"x", "a 203 keeps the object"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "Traceback" not in err
    assert "POST /?user=put_object verified" in out, "the console line shows the whole target"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_make_run(tmp_path, *assignments: str) -> tuple[subprocess.Popen[str], str, str]:
    """`make run VAR=...` from the repository root, as a user types it: (process, emulator URL,
    receiver URL). The venv is taken as set up (``-o``), and the Makefile's ossemu is this one."""
    proc = subprocess.Popen(
        ["make", "-s", "-o", ".venv/.installed", "run", *assignments]
        + [f"BIN={os.path.dirname(sys.executable)}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OSSEMU_DATA_DIR": str(tmp_path / "data")},
        start_new_session=True,  # Ctrl-C reaches make and ossemu alike, as in a terminal
    )
    emulator = re.match(r"ossemu listening on (\S+) ", proc.stdout.readline()).group(1)
    receiver = re.match(
        r"callback receiver listening on (\S+)$", proc.stdout.readline().strip()
    ).group(1)
    return proc, emulator, receiver


def stop(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    return err


def test_make_run_port_and_receiver_port_reach_ossemu_dev(tmp_path):
    port, receiver_port = free_port(), free_port()
    proc, emulator, receiver = start_make_run(
        tmp_path, f"PORT={port}", f"RECEIVER_PORT={receiver_port}"
    )
    try:
        assert (emulator, receiver) == (
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{receiver_port}",
        )
        with Client(emulator, "ossemu-dev-key", "ossemu-dev-secret") as client:
            result = client.get_bucket("examplebucket").put_object(
                "k", b"x", callback=Callback(url=receiver)
            )
        assert result.callback_json() == {"Status": "OK"}
    finally:
        err = stop(proc)
    assert "Traceback" not in err


def test_make_run_port_0_picks_free_ports_for_both(tmp_path):
    proc, emulator, receiver = start_make_run(tmp_path, "PORT=0")
    try:
        ports = {int(emulator.rsplit(":", 1)[1]), int(receiver.rsplit(":", 1)[1])}
        assert len(ports) == 2 and not ports & {0, 8090, 23450}
        with Client(emulator, "ossemu-dev-key", "ossemu-dev-secret") as client:
            result = client.get_bucket("examplebucket").put_object(
                "k", b"x", callback=Callback(url=receiver)
            )
        assert result.callback_json() == {"Status": "OK"}
    finally:
        stop(proc)


def start_dev(data_dir, *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    """``ossemu dev`` on free ports: the process, the emulator's and the receiver's URLs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ossemu.emulator", "dev", "--port", "0", "--receiver-port", "0"]
        + ["--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    emulator = re.match(r"ossemu listening on (\S+) ", proc.stdout.readline()).group(1)
    receiver = re.match(r"callback receiver listening on (\S+)$", proc.stdout.readline()).group(1)
    return proc, emulator, receiver


def test_dev_gives_examplebucket_cors_for_local_origins_and_serves_the_upload_page(tmp_path):
    proc, emulator, receiver = start_dev(tmp_path / "data")
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert lines[1] == f"direct-upload page on {receiver}/ (uploads to examplebucket)"
        assert lines[2] == "examplebucket: CORS allows http://localhost:* and http://127.0.0.1:*"
        auth = oss2.Auth("ossemu-dev-key", "ossemu-dev-secret")
        rules = oss2.Bucket(auth, emulator, "examplebucket").get_bucket_cors().rules
        assert rules[0].allowed_origins == ["http://localhost:*", "http://127.0.0.1:*"]
        preflight = requests.options(
            f"{emulator}/examplebucket",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        page = requests.get(receiver + "/")
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert '<script src="/app.js">' in page.text and "https://" not in page.text  # no CDN
        assert "FormData" in requests.get(receiver + "/app.js").text
        bad = requests.get(receiver + "/api/post-form?version=v9&filename=a.png")
        assert bad.status_code == 400 and "version" in bad.json()["error"]
        # Callbacks still reach the receiver, and a GET elsewhere is still no page.
        assert requests.get(receiver + "/elsewhere").status_code == 501
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "Traceback" not in err

    # On restart the user's own rules stay: dev sets its rule only where there is none.
    auth = oss2.Auth("ossemu-dev-key", "ossemu-dev-secret")
    proc, emulator, _ = start_dev(tmp_path / "data")
    try:
        bucket = oss2.Bucket(auth, emulator, "examplebucket")
        mine = oss2.models.CorsRule(
            allowed_origins=["https://mine.example"], allowed_methods=["GET"]
        )
        bucket.put_bucket_cors(oss2.models.BucketCors([mine]))
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    proc, emulator, _ = start_dev(tmp_path / "data")
    try:
        rules = oss2.Bucket(auth, emulator, "examplebucket").get_bucket_cors().rules
        assert rules[0].allowed_origins == ["https://mine.example"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert "CORS allows" not in out
