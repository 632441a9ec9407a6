"""Kit for the reliability tests: emulator processes to kill, raw signed HTTP, and verifiers.

``Ledger`` records every write and whether it was acknowledged; ``verify_against_ledger`` then
checks what a restarted emulator serves: each key holds one whole version a writer could have
left, and the listing agrees with GET. ``check_index_matches_files`` reads the data dir itself:
the index and the blob files name the same set, and nothing dangles.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ossemu.client import Bucket, NoSuchKey
from ossemu.client.auth import Credentials, Signer
from ossemu.emulator.storage.inline import NAME_SQL as inline_name
from tests.support import RawResponse, raw_exchange, target, wire

KEY_ID = "reliability-key-id"
SECRET = "reliability-secret-9f3c1e"  # tests assert it never leaks anywhere
ENV = {"OSS_ACCESS_KEY_ID": KEY_ID, "OSS_ACCESS_KEY_SECRET": SECRET}
REGION = "cn-hangzhou"
_LISTENING = re.compile(r"ossemu listening on (http://127\.0\.0\.1:\d+) ")
_GUNICORN_LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


def env_int(name: str, default: int) -> int:
    """A sizing knob from the environment (``make stress`` raises them)."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``ossemu serve`` may be a gunicorn master and workers)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += parents.get(current, [])
    return tree


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rss_kb(pid: int) -> int:
    """Resident set size of a process and its descendants, from ``/proc/<pid>/status``."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        total += sum(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:"))
    return total


def open_fds(pid: int) -> int:
    """Open file descriptors of a process and its descendants."""
    total = 0
    for member in process_tree(pid):
        try:
            total += len(os.listdir(f"/proc/{member}/fd"))
        except OSError:
            continue
    return total


# -- emulator processes -------------------------------------------------------------------------


class ServeProcess:
    """``ossemu serve --port 0`` as a child process; stderr goes to a file we can read."""

    def __init__(self, data_dir: Path, *args: str, log: Path | None = None) -> None:
        self.data_dir = data_dir
        self.log_path = log or data_dir.parent / f"serve-{time.monotonic_ns()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ossemu.emulator", "serve", "--port", "0"]
            + ["--data-dir", str(data_dir), *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **ENV},
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        match = _LISTENING.match(line)
        if not match:
            self.kill()
            raise AssertionError(f"serve did not start: {line!r}\n{self.log_text()}")
        self.url = match.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL, as in a crash or an OOM kill: no cleanup handler runs.

        Only the main process is killed; its workers, if any, must die with it.
        """
        members = process_tree(self.pid)
        self.proc.kill()
        self.wait()
        deadline = time.monotonic() + 10
        while any(alive(p) for p in members):
            if time.monotonic() > deadline:
                survivors = [p for p in members if alive(p)]
                for p in survivors:
                    os.kill(p, signal.SIGKILL)
                raise AssertionError(f"workers {survivors} outlived the killed server")
            time.sleep(0.01)

    def stop(self) -> int:
        """Ctrl-C; returns the exit code."""
        self.interrupt()
        return self.wait()

    def interrupt(self) -> None:
        """Ctrl-C without waiting (stop several servers at once, then ``wait()`` for each)."""
        self.proc.send_signal(signal.SIGINT)

    def ensure_stopped(self) -> None:
        """For ``finally:`` blocks: a test that failed half-way leaves no server behind."""
        if self.proc.poll() is None:
            self.kill()

    def wait(self) -> int:
        try:
            code = self.proc.wait(timeout=15)
        finally:
            self._log.close()
            if self.proc.stdout:
                self.proc.stdout.close()
        return code

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


class GunicornProcess:
    """``gunicorn -w N -k gthread ossemu.emulator.wsgi:app`` on 127.0.0.1, kernel-chosen port."""

    def __init__(self, data_dir: Path, workers: int = 4) -> None:
        self.log_path = data_dir.parent / f"gunicorn-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread"]
            + ["--threads", "4", "-b", "127.0.0.1:0", "--no-control-socket"]
            + ["ossemu.emulator.wsgi:app"],
            stdout=self._log,
            stderr=self._log,
            env={**os.environ, **ENV, "OSSEMU_DATA_DIR": str(data_dir)},
        )
        self.url = self._wait_for(_GUNICORN_LISTENING).group(1)
        deadline = time.monotonic() + 30
        while self.log_text().count("Booting worker") < workers:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"gunicorn workers did not boot:\n{self.log_text()}")
            time.sleep(0.05)

    def _wait_for(self, pattern: re.Pattern[str]) -> re.Match[str]:
        deadline = time.monotonic() + 30
        while not (match := pattern.search(self.log_text())):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f"gunicorn did not start:\n{self.log_text()}")
            time.sleep(0.05)
        return match

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        finally:
            self._log.close()


# -- raw, signed HTTP ------------------------------------------------------------------------------


SIGNER = Signer(Credentials(KEY_ID, SECRET), "v4", REGION)


def signed_headers(
    method: str,
    bucket: str | None,
    key: str | None,
    params: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    signer: Signer = SIGNER,
) -> dict[str, str]:
    """``headers`` plus Date/x-oss-date/Authorization for this request (V4 by default)."""
    out = dict(headers or {})
    signer.sign_headers(method, out, bucket, key, list(params))
    return out


def raw_request(
    port: int,
    method: str,
    bucket: str | None,
    key: str | None,
    *,
    params: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    sign: bool = True,
    raw_target: str | None = None,
    timeout: float = 10,
) -> RawResponse:
    """One signed request on its own connection, headers written exactly as given."""
    params = list(params)
    sent = signed_headers(method, bucket, key, params, headers) if sign else dict(headers or {})
    sent.setdefault("Host", f"127.0.0.1:{port}")
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in sent):
        sent["Content-Length"] = str(len(body))
    sent["Connection"] = "close"
    head = f"{method} {raw_target or target(bucket, key, params)} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in sent.items()) + "\r\n"
    return raw_exchange(port, wire(head) + body, timeout=timeout)


# -- what acknowledged writes promise ------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One whole state of a key; ``etag=None`` when the writer never learned it."""

    md5: str
    size: int
    content_type: str
    metadata: tuple[tuple[str, str], ...]
    etag: str | None = None

    @classmethod
    def of(
        cls,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str],
        etag: str | None = None,
    ) -> Version:
        return cls(
            hashlib.md5(data).hexdigest(),
            len(data),
            content_type,
            tuple(sorted((k.lower(), v) for k, v in metadata.items())),
            etag,
        )

    def same(self, other: Version) -> bool:
        """Equal bytes and metadata; ETags compared only when both sides know theirs."""
        keep = (self.md5, self.size, self.content_type, self.metadata)
        if keep != (other.md5, other.size, other.content_type, other.metadata):
            return False
        return self.etag is None or other.etag is None or self.etag == other.etag


@dataclass
class _Write:
    version: Version | None  # None: the key was deleted
    start: float
    end: float  # math.inf until acknowledged: it may land at any moment before the crash
    acked: bool


@dataclass
class Ledger:
    """Every write issued per key, with its time span and whether it was acknowledged.

    A write is a possible current state of its key unless some acknowledged write *started
    after it ended*. The rule covers one writer, concurrent writers and unacknowledged writes
    (which may or may not have landed) alike.
    """

    writes: dict[str, list[_Write]] = field(default_factory=dict)
    acked: int = 0
    unacked: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, key: str, version: Version | None, start: float, acked: bool) -> None:
        end = time.monotonic() if acked else math.inf
        with self._lock:
            # A key nobody wrote before is absent: that stays possible until a write is acked.
            writes = self.writes.setdefault(key, [_Write(None, -math.inf, -math.inf, True)])
            writes.append(_Write(version, start, end, acked))
            if acked:
                self.acked += 1
            else:
                self.unacked += 1

    def candidates(self, key: str) -> list[Version | None]:
        writes = self.writes.get(key, [])
        if not writes:
            return [None]
        return [
            w.version
            for w in writes
            if not any(o.acked and o.start > w.end for o in writes if o is not w)
        ]

    def settle(self, key: str, observed: Version | None) -> None:
        """What was read back becomes the baseline for the next round."""
        self.writes[key] = [_Write(observed, -math.inf, time.monotonic(), True)]


def read_version(bucket: Bucket, key: str) -> Version | None:
    """The key's bytes and metadata from one GET (the client checks the CRC-64 as it reads)."""
    try:
        stream = bucket.get_object(key, stream=True)
    except NoSuchKey:
        return None
    with stream:
        data = stream.read()
    meta = stream.meta
    return Version.of(data, meta.content_type or "", dict(meta.metadata), meta.etag)


def verify_against_ledger(bucket: Bucket, ledger: Ledger) -> int:
    """Every key reads back as one of its possible versions, and listing agrees with GET.

    Returns how many keys were checked; the ledger is settled to what was found.
    """
    listed = {s.key: s for s in bucket.list_objects()}
    phantom = set(listed) - set(ledger.writes)
    assert not phantom, f"listed keys nobody wrote: {sorted(phantom)[:10]}"
    for key in sorted(ledger.writes):
        observed = read_version(bucket, key)
        allowed = ledger.candidates(key)
        ok = any(
            (a is None and observed is None)
            or (a is not None and observed is not None and a.same(observed))
            for a in allowed
        )
        assert ok, (
            f"{key!r} holds {observed}, expected one of {allowed}; writes: {ledger.writes[key]}"
        )
        if observed is None:
            assert key not in listed, f"{key!r} is listed but GET finds nothing"
        else:
            entry = listed.get(key)
            assert entry is not None, f"{key!r} is readable but not listed"
            assert (entry.size, entry.etag) == (observed.size, observed.etag), key
        ledger.settle(key, observed)
    return len(ledger.writes)


# -- the data dir itself -------------------------------------------------------------------------


def check_index_matches_files(data_dir: Path) -> dict[str, int]:
    """The index and ``blobs/`` name the same files, sizes agree, and no row dangles; every
    inline body belongs to exactly one object and has its size.

    Call it when no request is in flight (a commit deletes the replaced blob just after).
    """
    db = sqlite3.connect(f"file:{data_dir / 'index.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT blob, size FROM objects UNION ALL SELECT blob, size FROM parts"
        ).fetchall()
        dangling = db.execute(
            "SELECT 'object', bucket || '/' || key FROM objects"
            " WHERE bucket NOT IN (SELECT name FROM buckets)"
            " UNION ALL SELECT 'upload', upload_id FROM uploads"
            " WHERE bucket NOT IN (SELECT name FROM buckets)"
            " UNION ALL SELECT 'part', upload_id FROM parts"
            " WHERE upload_id NOT IN (SELECT upload_id FROM uploads)"
        ).fetchall()
        inline_sizes = dict(
            db.execute(f"SELECT {inline_name}, length(data) FROM inline_blobs").fetchall()
        )
        counts = {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("buckets", "objects", "uploads", "parts", "inline_blobs")
        }
    finally:
        db.close()
    assert not dangling, f"index rows pointing at nothing: {dangling[:10]}"
    indexed = {blob: size for blob, size in rows}
    assert len(indexed) == len(rows), "two rows share one blob"
    inline = {blob: size for blob, size in indexed.items() if blob.startswith("inline:")}
    assert inline == inline_sizes, "inline bodies and their rows differ (orphan, missing or size)"
    indexed = {blob: size for blob, size in indexed.items() if blob not in inline}
    files = list((data_dir / "blobs").glob("*/*"))
    records = {p.name for p in files if p.name.endswith(".meta")}
    on_disk = {p.name: p.stat().st_size for p in files if not p.name.endswith(".meta")}
    assert records == {f"{name}.meta" for name in on_disk}, "blobs and their records differ"
    assert set(on_disk) == set(indexed), (
        f"blob files without a row: {sorted(set(on_disk) - set(indexed))[:5]}; "
        f"rows without a file: {sorted(set(indexed) - set(on_disk))[:5]}"
    )
    wrong_size = [b for b, size in indexed.items() if on_disk[b] != size]
    assert not wrong_size, f"blobs whose size differs from the index: {wrong_size[:5]}"
    return {**counts, "blobs": len(on_disk)}


def temp_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "tmp").iterdir())


def files_outside(root: Path, allowed: Path) -> list[Path]:
    """Files under ``root`` that are not under ``allowed`` (nothing may escape the data dir)."""
    return [p for p in root.rglob("*") if p.is_file() and allowed not in p.parents]


# -- the bad-input tests (test_bad_*.py; their sandboxes are in conftest.py) ---------------------

BUCKET = "bad-input"
OBJECT = b"0123456789"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
key_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=60,
)


def assert_error(response: RawResponse, status: int, code: str) -> None:
    """An OSS ``<Error>`` document with this status and code, and a request id."""
    assert (response.status, response.code) == (status, code), response.body[:300]
    assert b"<RequestId>" in response.body
