"""Load: 16 clients doing mixed work against one ``ossemu serve`` for ``OSSEMU_LOAD_SECONDS``.

Every client owns a prefix and knows what it holds, so any difference - an error, a stale read,
a listing that disagrees, a lost write - is caught at once. Some clients connect afresh for each
request, as short-lived scripts do: a per-connection leak shows as growing memory or fds.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from ossemu.client import Bucket, Callback, Client
from ossemu.emulator.receiver import CallbackReceiver
from tests.reliability.helpers import (
    KEY_ID,
    SECRET,
    Ledger,
    ServeProcess,
    Version,
    check_index_matches_files,
    env_int,
    open_fds,
    read_version,
    rss_kb,
    temp_files,
    verify_against_ledger,
)

SECONDS = env_int("OSSEMU_LOAD_SECONDS", 5)
CLIENTS = 16
BUCKET = "load"
PART = 100 * 1024
# Growth allowed between the warmed-up server and the end of the run. Python's allocator keeps
# what it grew to, so some growth is normal; a per-request or per-connection leak (about 100 KB
# and two fds per connection before it was fixed) outgrows this within seconds.
MAX_RSS_GROWTH_KB = 24 * 1024
MAX_FD_GROWTH = 16


class Worker:
    """One client: a prefix of its own, and what every key under it must hold."""

    def __init__(self, n: int, url: str, callback_url: str, ledger: Ledger) -> None:
        self.n, self.url, self.ledger = n, url, ledger
        self.callback = Callback(callback_url, body="k=${object}&s=${size}")
        self.rng = random.Random(n)
        self.held: dict[str, Version] = {}
        self.done: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.fresh_connections = n % 4 == 0

    def run(self, stop: threading.Event) -> None:
        ops = [
            (self.put, 4),
            (self.put_with_callback, 2),
            (self.get, 5),
            (self.list, 2),
            (self.delete, 2),
            (self.multipart, 1),
        ]
        funcs, weights = zip(*ops, strict=True)
        try:
            with self._client() as client:
                while not stop.is_set():
                    op = self.rng.choices(funcs, weights)[0]
                    if self.fresh_connections:
                        with self._client() as once:
                            op(once.get_bucket(BUCKET))
                    else:
                        op(client.get_bucket(BUCKET))
        except BaseException as exc:  # reported by the test with the worker's number
            self.error = exc

    def _client(self) -> Client:
        return Client(self.url, KEY_ID, SECRET, max_retries=0, read_timeout=60)

    def _key(self) -> str:
        return f"c{self.n}/k{self.rng.randrange(8)}"

    def _stored(self, key: str, data: bytes, meta: dict[str, str], etag: str | None) -> None:
        version = Version.of(data, "application/octet-stream", meta, etag)
        self.held[key] = version
        self.ledger.record(key, version, time.monotonic(), acked=True)

    def put(self, bucket: Bucket) -> None:
        key, data = self._key(), self.rng.randbytes(self.rng.choice((0, 100, 5000, 150_000)))
        meta = {"n": str(self.rng.getrandbits(32))}
        result = bucket.put_object(
            key, data, content_type="application/octet-stream", metadata=meta
        )
        assert result.etag == hashlib.md5(data).hexdigest().upper()
        self._stored(key, data, meta, result.etag)
        self.done["put"] += 1

    def put_with_callback(self, bucket: Bucket) -> None:
        key, data = self._key(), self.rng.randbytes(self.rng.randrange(1, 20_000))
        meta = {"cb": "1"}
        result = bucket.put_object(
            key,
            data,
            content_type="application/octet-stream",
            metadata=meta,
            callback=self.callback,
        )
        assert result.callback_body == b'{"Status":"OK"}', result.callback_body
        self._stored(key, data, meta, result.etag)
        self.done["put+callback"] += 1

    def get(self, bucket: Bucket) -> None:
        if not self.held:
            return
        key = self.rng.choice(sorted(self.held))
        seen = read_version(bucket, key)
        assert seen is not None and seen.same(self.held[key]), f"{key}: read {seen}"
        self.done["get"] += 1

    def list(self, bucket: Bucket) -> None:
        listed = {s.key: s.size for s in bucket.list_objects(prefix=f"c{self.n}/")}
        assert listed == {k: v.size for k, v in self.held.items()}
        self.done["list"] += 1

    def delete(self, bucket: Bucket) -> None:
        key = self._key()
        bucket.delete_object(key)
        self.held.pop(key, None)
        self.ledger.record(key, None, time.monotonic(), acked=True)
        self.done["delete"] += 1

    def multipart(self, bucket: Bucket) -> None:
        key = f"c{self.n}/mp{self.rng.randrange(2)}"
        upload_id = bucket.init_multipart_upload(key, content_type="application/octet-stream")
        chunks = [self.rng.randbytes(PART), self.rng.randbytes(self.rng.randrange(1, 50_000))]
        parts = [bucket.upload_part(key, upload_id, n + 1, c) for n, c in enumerate(chunks)]
        result = bucket.complete_multipart_upload(key, upload_id, parts)
        self._stored(key, b"".join(chunks), {}, result.etag)
        self.done["multipart"] += 1


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as receiver:
        yield receiver


# The default server (gunicorn's gthread when installed) reuses threads and connections;
# Werkzeug's starts a thread per connection, which is where per-thread state leaked: a shorter
# run shows it as plainly.
@pytest.mark.parametrize(
    ("server_args", "seconds"),
    [((), SECONDS), (("--server", "werkzeug"), max(2, SECONDS // 2))],
    ids=["default", "werkzeug"],
)
def test_sixteen_clients_of_mixed_work_lose_nothing_and_memory_stays_flat(
    tmp_path, receiver, server_args, seconds
):
    server = ServeProcess(tmp_path / "data", *server_args)
    try:
        with Client(server.url, KEY_ID, SECRET) as client:
            client.create_bucket(BUCKET)
        ledger = Ledger()
        workers = [Worker(n, server.url, receiver.url, ledger) for n in range(CLIENTS)]
        stop = threading.Event()
        threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
        for t in threads:
            t.start()
        warm_up = min(2.0, seconds / 4)
        time.sleep(warm_up)  # caches, thread pools and the allocator settle first
        start_rss, start_fds = rss_kb(server.pid), open_fds(server.pid)
        peak = start_rss
        deadline = time.monotonic() + seconds - warm_up
        while time.monotonic() < deadline and not any(w.error for w in workers):
            time.sleep(0.25)
            peak = max(peak, rss_kb(server.pid))
        stop.set()
        for t in threads:
            t.join(timeout=120)
        failures = [f"client {w.n}: {w.error!r}" for w in workers if w.error]
        assert not failures, failures
        end_rss = rss_kb(server.pid)
        end_fds = _settled_fds(server.pid, start_fds)

        with Client(server.url, KEY_ID, SECRET, max_retries=0) as client:
            checked = verify_against_ledger(client.get_bucket(BUCKET), ledger)
        assert not temp_files(server.data_dir)
        check_index_matches_files(server.data_dir)
    finally:
        code = server.stop()
    assert code == 0
    assert "Traceback" not in server.log_text()
    done = sum((w.done for w in workers), Counter())
    receiver.check()
    assert len(receiver.log) == done["put+callback"]
    assert all(cb.verified for cb in receiver.log)
    print(
        f"\nload ({' '.join(server_args) or 'default server'}): {CLIENTS} clients for "
        f"{seconds}s: {sum(done.values())} operations "
        f"{dict(done)}; unexpected errors=0; keys checked={checked} lost=0; "
        f"server RSS start={start_rss // 1024} MB end={end_rss // 1024} MB "
        f"peak={peak // 1024} MB; fds start={start_fds} end={end_fds}"
    )
    assert end_rss - start_rss < MAX_RSS_GROWTH_KB
    assert end_fds - start_fds < MAX_FD_GROWTH


def _settled_fds(pid: int, baseline: int) -> int:
    """Open fds once the server's connection threads have noticed their clients left."""
    deadline = time.monotonic() + 5
    while (fds := open_fds(pid)) >= baseline + MAX_FD_GROWTH and time.monotonic() < deadline:
        time.sleep(0.1)
    return fds
