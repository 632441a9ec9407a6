"""`ossemu serve` as a user runs it: a real process, its startup line, persistence, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import oss2
import pytest

from tests.support import status_line

LINE = re.compile(r"^ossemu listening on (http://127\.0\.0\.1:(\d+)) \(data: (.+)\)$")


def start(data_dir: Path, *extra: str, env: dict[str, str] | None = None):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ossemu.emulator",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = proc.stdout.readline().rstrip("\n")
    match = LINE.match(line)
    assert match, f"unexpected startup line {line!r}"
    return proc, match.group(1)


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    return proc.returncode, err


def test_serve_prints_one_line_persists_data_and_stops_cleanly(tmp_path):
    env = {"OSS_ACCESS_KEY_ID": "my-key-id", "OSS_ACCESS_KEY_SECRET": "my-very-secret"}
    proc, url = start(tmp_path / "data", env=env)
    bucket = oss2.Bucket(oss2.Auth("my-key-id", "my-very-secret"), url, "persisted")
    bucket.create_bucket()
    bucket.put_object("k.txt", b"survives restarts")
    code, err = stop(proc)
    assert code == 0
    assert "my-key-id" in err and "my-very-secret" not in err
    assert "Traceback" not in err

    proc, url = start(tmp_path / "data", env=env)
    try:
        bucket = oss2.Bucket(oss2.Auth("my-key-id", "my-very-secret"), url, "persisted")
        assert bucket.get_object("k.txt").read() == b"survives restarts"
    finally:
        stop(proc)


def test_serve_logs_one_access_line_per_request(tmp_path):
    proc, url = start(tmp_path / "d")
    oss2.Bucket(oss2.Auth("ossemu-dev-key", "ossemu-dev-secret"), url, "logs").create_bucket()
    code, err = stop(proc)
    assert re.search(r"PUT /logs/? 200 [0-9A-F]{24} \d+\.\dms", err), err


def test_serve_on_a_busy_port_is_one_clear_line(tmp_path):
    proc, url = start(tmp_path / "d")
    try:
        port = url.rsplit(":", 1)[1]
        busy = subprocess.run(
            [
                sys.executable,
                "-m",
                "ossemu.emulator",
                "serve",
                "--port",
                port,
                "--data-dir",
                str(tmp_path / "e"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert busy.returncode == 2
        assert busy.stderr.strip().startswith("ossemu: error: cannot listen on")
        assert "Traceback" not in busy.stderr
    finally:
        stop(proc)


def test_no_auth_accepts_unsigned_requests(tmp_path):
    import requests

    proc, url = start(tmp_path / "d", "--no-auth")
    try:
        assert requests.put(f"{url}/open-bucket").status_code == 200
        assert requests.put(f"{url}/open-bucket/k", data=b"x").status_code == 200
    finally:
        stop(proc)


@pytest.mark.parametrize("argv", [["serve", "--help"], ["--help"], ["dev", "--help"]])
def test_help(argv):
    out = subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", *argv], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and "usage: ossemu" in out.stdout


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_every_response_of_the_real_server_looks_like_oss(tmp_path, server):
    import requests

    proc, url = start(tmp_path / "d", "--server", server)
    try:
        for response in (requests.get(f"{url}/_ossemu/health"), requests.get(f"{url}/b/k")):
            assert response.headers["Server"] == "AliyunOSS"
            assert re.fullmatch(r"[0-9A-F]{24}", response.headers["x-oss-request-id"])
            assert response.headers["Date"].endswith(" GMT")
    finally:
        stop(proc)


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_status_lines_read_as_oss_writes_them(tmp_path, server):
    proc, url = start(tmp_path / "d", "--server", server)
    port = int(url.rsplit(":", 1)[1])
    sent = {
        "GET /_ossemu/health": "HTTP/1.1 200 OK",
        "GET /no-such-bucket/k": "HTTP/1.1 404 Not Found",  # NoSuchBucket, before any ACL
        "PUT /new-bucket": "HTTP/1.1 403 Forbidden",  # unsigned: only the owner creates
        "DELETE /_ossemu/faults": "HTTP/1.1 204 No Content",
    }
    try:
        got = {
            request: status_line(port, f"{request} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            for request in sent
        }
    finally:
        stop(proc)
    assert got == sent


def test_serve_runs_one_worker_per_cpu_by_default_and_they_share_everything(tmp_path):
    from ossemu.emulator.cli import default_workers

    proc, url = start(tmp_path / "data")
    try:
        deadline = time.monotonic() + 30
        while len(_children(proc.pid)) < default_workers():
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.05)
        assert len(_children(proc.pid)) == default_workers() == min(4, len(os.sched_getaffinity(0)))
        auth = oss2.Auth("ossemu-dev-key", "ossemu-dev-secret")
        oss2.Bucket(auth, url, "shared").create_bucket()
        # New connections land on whichever worker accepts first: each must see every write.
        for i in range(12):
            bucket = oss2.Bucket(auth, url, "shared", session=oss2.Session())
            bucket.put_object(f"k{i}", str(i).encode())
            assert (
                oss2.Bucket(auth, url, "shared", session=oss2.Session()).get_object(f"k{i}").read()
                == str(i).encode()
            )
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize("pinned", [True, False], ids=["default", "no-pin-workers"])
def test_serve_runs_each_worker_on_a_cpu_of_its_own(tmp_path, pinned):
    cpus = os.sched_getaffinity(0)
    extra = ("--workers", "2") if pinned else ("--workers", "2", "--no-pin-workers")
    proc, _ = start(tmp_path / "data", *extra)
    try:
        deadline = time.monotonic() + 30
        while len(workers := _children(proc.pid)) < 2:
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.05)
        deadline = time.monotonic() + 30
        while pinned and len(cpus) > 1 and any(len(os.sched_getaffinity(p)) > 1 for p in workers):
            assert time.monotonic() < deadline, "a worker was never pinned"
            time.sleep(0.01)  # each is pinned just after its fork
        placed = [os.sched_getaffinity(pid) for pid in workers]
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err
    if pinned and len(cpus) > 1:
        assert all(len(one) == 1 and one <= cpus for one in placed), placed
        assert placed[0] != placed[1], "two workers on one CPU while another is free"
    else:  # one CPU (nothing to choose) or pinning turned off: the scheduler places them
        assert placed == [cpus, cpus]


def test_the_line_comes_once_every_worker_has_started(tmp_path):
    """Each worker's start-up sweeps unreferenced blobs out of the data dir: a tool that reads
    the line and then works on the data dir (``ossemu fsck``, a test that damages it on
    purpose) must not race the last worker's sweep."""
    data_dir = tmp_path / "data"
    proc, _ = start(data_dir, "--workers", "2")
    try:
        workers = _children(proc.pid)
        index = os.path.realpath(data_dir / "index.sqlite3")
        assert len(workers) == 2
        assert all(index in _open_files(pid) for pid in workers)
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err


def test_a_worker_that_dies_is_replaced_on_the_cpu_it_left(tmp_path):
    cpus = os.sched_getaffinity(0)
    proc, url = start(tmp_path / "data", "--workers", "2")
    try:
        workers = _wait_for_workers(proc.pid, 2)
        deadline = time.monotonic() + 30
        while len(cpus) > 1 and any(len(os.sched_getaffinity(p)) > 1 for p in workers):
            assert time.monotonic() < deadline, "a worker was never pinned"
            time.sleep(0.01)  # each is pinned just after its fork
        placed = {pid: os.sched_getaffinity(pid) for pid in workers}
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not (new := [p for p in _children(proc.pid) if p not in placed]):
            assert time.monotonic() < deadline, "gunicorn did not replace the worker"
            time.sleep(0.05)
        (replacement,) = _wait_for_workers(proc.pid, 2, among=new)
        while len(cpus) > 1 and len(os.sched_getaffinity(replacement)) > 1:
            assert time.monotonic() < deadline, "the new worker was never pinned"
            time.sleep(0.01)  # it is pinned just after the fork
        assert os.sched_getaffinity(replacement) == (placed[victim] if len(cpus) > 1 else cpus), (
            "the new worker should take the CPU its predecessor left, not share the other one"
        )
        auth = oss2.Auth("ossemu-dev-key", "ossemu-dev-secret")
        oss2.Bucket(auth, url, "after-restart").create_bucket()
    finally:
        code, err = stop(proc)
    assert code == 0


def _wait_for_workers(master: int, count: int, among: list[int] | None = None) -> list[int]:
    deadline = time.monotonic() + 30
    while len(found := _children(master)) < count:
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.05)
    return [p for p in found if among is None or p in among]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _open_files(pid: int) -> set[str]:
    names = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            names.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return names
