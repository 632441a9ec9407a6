"""The inspector's reads at scale: a page of a 100,000-object bucket and a page of a full
journal (10,000 entries, about 64 MiB), timed as the page asks for them.

The data dir is filled before the server starts, through the storage and journal modules
(one index transaction for the objects, real signed journal entries), so seeding takes
seconds rather than the minutes 100,000 fsynced PUTs would. Then ``ossemu serve`` (the
default gunicorn worker) answers; each figure is the median of sequential requests on a kept
connection, which is the server's time plus a loopback round trip.
"""

from __future__ import annotations

import base64
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import requests

from ossemu.emulator.callbacks import CallbackJournal, load_or_create_private_key, sign_callback
from ossemu.emulator.callbacks.journal import KEEP, MAX_BYTES
from ossemu.emulator.storage import Storage, inline

from .peers import KEY_ID, SECRET
from .procs import HOST, Proc, free_port
from .report import Results

BUCKET = "inspected"
OBJECTS = 100_000
REQUESTS = 40
TARGET_MS = 50.0


def seed_objects(storage: Storage, count: int) -> None:
    """``count`` small objects under ``photos/2026/`` (plus one at the top), one transaction."""
    storage.create_bucket(BUCKET)
    with storage.index.write() as db:
        for i in range(count):
            key = f"photos/2026/{i:06d}.jpg" if i else "readme.txt"
            db.execute(
                "INSERT OR REPLACE INTO objects (bucket, key, blob, size, etag, crc64,"
                " content_md5, content_type, object_type, last_modified, headers,"
                " storage_class, tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    *(BUCKET, key, inline.insert(db, b"%06d" % i), 6),
                    *("0" * 32, "0", "", "image/jpeg", "Normal", time.time()),
                    *(json.dumps({"x-oss-meta-owner": "bench"}), "Standard", "{}"),
                ),
            )


def seed_journal(data_dir: Path, entries: int, entry_bytes: int) -> None:
    """``entries`` deliveries of about ``entry_bytes`` each, one in a hundred failed, signed
    with the data dir's callback key (so ``verify=1`` does real RSA checks)."""
    key = load_or_create_private_key(data_dir / "callback-key.pem")
    journal = CallbackJournal(data_dir / "callbacks.sqlite3")
    filler = "v" * max(0, entry_bytes - 1500)
    try:
        for i in range(entries):
            body = f"bucket={BUCKET}&object=photos%2F2026%2F{i:06d}.jpg&pad={filler}".encode()
            failed = i % 100 == 0
            request = {
                "method": "POST",
                "target": "/callback",
                "version": "HTTP/1.0",
                "headers": [
                    ["Host", "127.0.0.1:9000"],
                    ["Content-Type", "application/x-www-form-urlencoded"],
                    ["authorization", sign_callback(key, "/callback", "", body)],
                    ["x-oss-pub-key-url", base64.b64encode(b"http://x/key.pem").decode()],
                ],
                "body": body.decode(),
            }
            status = 500 if failed else 200
            attempt = {
                "url": "http://127.0.0.1:9000/callback",
                "address": "127.0.0.1:9000",
                "request": request,
                "response": {"status": status, "reason": "", "headers": [], "body": "{}"},
                "ok": not failed,
                "message": "Error status : 500." if failed else "",
                "error": None,
                "duration_ms": 2,
            }
            journal.record(
                {
                    "time": "2026-12-07T00:00:00.000Z",
                    "bucket": BUCKET,
                    "key": f"photos/2026/{i:06d}.jpg",
                    "operation": "PutObject",
                    "request_id": f"{i:024X}",
                    "callback": {
                        "urls": [attempt["url"]],
                        "host": None,
                        "body_type": "application/x-www-form-urlencoded",
                        "sni": False,
                    },
                    "attempts": [attempt],
                    "outcome": "failed" if failed else "ok",
                    "message": attempt["message"],
                    "duration_ms": 2,
                }
            )
    finally:
        journal.close()


def _median_ms(session: requests.Session, url: str, count: int) -> float:
    session.get(url, timeout=30).raise_for_status()  # warm: connection, caches
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        response.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def inspector(out: Path, results: Results, runs: int = 3, objects: int = OBJECTS) -> None:
    """Seed, start ``ossemu serve``, and add each read's median (ms) per run to ``results``."""
    data_dir = out / "data" / "inspector"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    started = time.monotonic()
    storage = Storage(data_dir)
    seed_objects(storage, objects)
    storage.close()
    seed_journal(data_dir, KEEP, MAX_BYTES // KEEP - 300)
    seconds = time.monotonic() - started
    print(f"   seeded {objects:,} objects and a full journal in {seconds:.0f} s", flush=True)
    port = free_port()
    argv = [sys.executable, "-m", "ossemu.emulator", "serve", "--port", str(port)]
    argv += ["--data-dir", str(data_dir), "--workers", "1"]
    env = {"OSS_ACCESS_KEY_ID": KEY_ID, "OSS_ACCESS_KEY_SECRET": SECRET}
    proc = Proc("ossemu-inspector", argv, out / "logs", env=env)
    try:
        proc.read_line()
        proc.wait_for_port(port)
        base = f"http://{HOST}:{port}/_ossemu"
        middle = f"photos/2026/{objects // 2:06d}.jpg"
        reads = {
            "page (HTML)": "/",
            "buckets with counts": "/buckets",
            "objects: top level": f"/buckets/{BUCKET}/objects?limit=100",
            "objects: first 100 of a folder": (
                f"/buckets/{BUCKET}/objects?prefix=photos/2026/&limit=100"
            ),
            "objects: 100 from the middle": (
                f"/buckets/{BUCKET}/objects?prefix=photos/2026/&limit=100&marker={middle}"
            ),
            "journal: newest 50, verified": "/callbacks?order=newest&limit=50&verify=1",
            "journal: 50 failed, verified": (
                "/callbacks?order=newest&limit=50&verify=1&outcome=failed"
            ),
            "journal: 50 older, verified": "/callbacks?order=newest&limit=50&verify=1&before=5000",
        }
        with requests.Session() as session:
            for _ in range(runs):
                for name, path in reads.items():
                    ms = _median_ms(session, base + path, REQUESTS)
                    results.add(name, "ms (median)", "ossemu", ms, higher_is_better=False)
    finally:
        proc.stop()


def verdict(results: Results) -> str:
    """The 50 ms goal, per read the issue names."""
    lines = []
    for (workload, _, _), figure in results.figures.items():
        if workload.startswith(("objects", "journal")):
            ok = figure.median <= TARGET_MS
            lines.append(
                f"- {workload}: {figure.median:.1f} ms {'≤' if ok else '>'} {TARGET_MS:.0f} ms "
                f"{'met' if ok else 'MISSED'}"
            )
    return "\n".join(lines)
