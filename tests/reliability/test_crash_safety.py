"""Crash safety: SIGKILL the emulator mid-traffic, restart it on the same data dir, check it all.

Each round starts ``ossemu serve``, checks what the previous kill left, then drives concurrent
writers - puts with and without callbacks, overwrites of shared keys, deletes, multipart uploads
completed at once or left open and resumed in a later round - and SIGKILLs the process at a
random moment. ``OSSEMU_STRESS_ROUNDS`` sets the number of kills (``make stress``: 50);
``OSSEMU_STRESS_SEED`` replays a run (the seed is printed and named in every failure).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ossemu.client import (
    Bucket,
    Callback,
    CallbackError,
    Client,
    NoSuchUpload,
    PartResult,
    RequestError,
)
from ossemu.emulator.receiver import CallbackReceiver
from tests.reliability.helpers import (
    KEY_ID,
    SECRET,
    Ledger,
    ServeProcess,
    Version,
    check_index_matches_files,
    env_int,
    temp_files,
    verify_against_ledger,
)

ROUNDS = env_int("OSSEMU_STRESS_ROUNDS", 4)
WRITERS = 6
BUCKET = "crash-safety"
PART = 100 * 1024  # the smallest part OSS accepts before the last one
SIZES = (0, 1, 999, 64 * 1024, 260 * 1024)
TYPES = ("application/octet-stream", "text/plain", "image/png", "application/json")


@dataclass
class OpenUpload:
    """A multipart upload in progress and what the server acknowledged of it."""

    key: str
    upload_id: str
    content_type: str
    metadata: dict[str, str]
    size: int  # bytes in the finished object
    parts: dict[int, bytes] = field(default_factory=dict)  # acknowledged
    maybe_parts: dict[int, bytes] = field(default_factory=dict)  # sent, never acknowledged
    completing: Version | None = None  # a Complete sent but never acknowledged

    def part_data(self, number: int, rng: random.Random) -> bytes:
        last = (self.size - 1) // PART + 1
        return rng.randbytes(PART if number < last else self.size - PART * (last - 1))

    @property
    def part_count(self) -> int:
        return (self.size - 1) // PART + 1


@dataclass
class World:
    """Everything the writers share across rounds."""

    seed: int
    ledger: Ledger = field(default_factory=Ledger)
    uploads: list[OpenUpload] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] += 1


class Writer:
    """One client thread doing random writes until the server dies under it."""

    def __init__(self, world: World, wid: int, url: str, receivers: tuple[str, str], rnd: int):
        self.world, self.wid, self.url, self.receivers = world, wid, url, receivers
        self.rng = random.Random(f"{world.seed}-{rnd}-{wid}")
        self.seq = 0

    def run(self, killed: threading.Event) -> None:
        ops = (self.put, self.put, self.put_shared, self.delete, self.multipart, self.resume)
        with Client(self.url, KEY_ID, SECRET, max_retries=0, read_timeout=30) as client:
            bucket = client.get_bucket(BUCKET)
            while not killed.is_set():
                try:
                    self.rng.choice(ops)(bucket)
                except RequestError as exc:
                    if not killed.is_set():
                        self.world.fail(
                            f"writer {self.wid}: transport error before the kill: {exc}"
                        )
                    return
                except Exception as exc:  # any other failure is a finding, not noise
                    self.world.fail(f"writer {self.wid}: {type(exc).__name__}: {exc}")
                    return

    def _put(self, bucket: Bucket, key: str) -> None:
        self.seq += 1
        data = self.rng.randbytes(self.rng.choice(SIZES))
        content_type = self.rng.choice(TYPES)
        metadata = {"writer": str(self.wid), "seq": str(self.seq)}
        callback = None
        if self.rng.random() < 0.3:
            callback = Callback(self.rng.choice(self.receivers), body="k=${object}&s=${size}")
        version = Version.of(data, content_type, metadata, hashlib.md5(data).hexdigest().upper())
        start = time.monotonic()
        try:
            etag = bucket.put_object(
                key, data, content_type=content_type, metadata=metadata, callback=callback
            ).etag
            self.world.count("callbacks 200" if callback else "puts 200")
        except CallbackError as exc:
            etag = exc.etag
            self.world.count("callbacks 203")
        except RequestError:
            self.world.ledger.record(key, version, start, acked=False)
            raise
        self.world.ledger.record(key, version, start, acked=True)
        assert etag == version.etag, f"{key}: acknowledged ETag {etag} != {version.etag}"

    def put(self, bucket: Bucket) -> None:
        self._put(bucket, f"w{self.wid}/k{self.rng.randrange(3)}")

    def put_shared(self, bucket: Bucket) -> None:
        self._put(bucket, f"shared/k{self.rng.randrange(3)}")

    def delete(self, bucket: Bucket) -> None:
        key = self.rng.choice([f"w{self.wid}/k{self.rng.randrange(3)}", "shared/k0"])
        start = time.monotonic()
        try:
            bucket.delete_object(key)
        except RequestError:
            self.world.ledger.record(key, None, start, acked=False)
            raise
        self.world.ledger.record(key, None, start, acked=True)
        self.world.count("acked delete")

    def multipart(self, bucket: Bucket) -> None:
        self.seq += 1
        key = f"w{self.wid}/mp-{self.rng.getrandbits(40):x}"
        content_type = self.rng.choice(TYPES)
        metadata = {"writer": str(self.wid), "mp": str(self.seq)}
        upload_id = bucket.init_multipart_upload(key, content_type=content_type, metadata=metadata)
        upload = OpenUpload(
            key, upload_id, content_type, metadata, self.rng.choice((PART + 1, 2 * PART + 777))
        )
        with self.world.lock:
            park = len(self.world.uploads) < WRITERS and self.rng.random() < 0.5
        if not park:
            self.finish(bucket, upload)
            return
        try:  # left open for a later round, maybe with some parts uploaded
            self._upload_parts(bucket, upload, self.rng.randrange(upload.part_count))
        finally:
            with self.world.lock:
                self.world.uploads.append(upload)

    def resume(self, bucket: Bucket) -> None:
        with self.world.lock:
            if not self.world.uploads:
                return
            upload = self.world.uploads.pop(self.rng.randrange(len(self.world.uploads)))
        self.finish(bucket, upload)
        self.world.count("uploads resumed")

    def finish(self, bucket: Bucket, upload: OpenUpload) -> None:
        """Upload the missing parts and complete; on a kill the upload goes back to the pool."""
        try:
            self._upload_parts(bucket, upload, upload.part_count)
            self._complete(bucket, upload)
        except BaseException:
            with self.world.lock:
                self.world.uploads.append(upload)
            raise

    def _upload_parts(self, bucket: Bucket, upload: OpenUpload, upto: int) -> None:
        for number in range(1, upto + 1):
            if number in upload.parts:
                continue
            data = upload.part_data(number, self.rng)
            upload.maybe_parts[number] = data
            bucket.upload_part(upload.key, upload.upload_id, number, data)
            upload.parts[number] = upload.maybe_parts.pop(number)

    def _complete(self, bucket: Bucket, upload: OpenUpload) -> None:
        data = b"".join(upload.parts[n] for n in sorted(upload.parts))
        version = Version.of(data, upload.content_type, upload.metadata)
        parts = [PartResult(n, hashlib.md5(d).hexdigest().upper()) for n, d in upload.parts.items()]
        callback = None
        if self.rng.random() < 0.3:
            callback = Callback(self.rng.choice(self.receivers), body="k=${object}&e=${etag}")
        start = time.monotonic()
        upload.completing = version
        try:
            bucket.complete_multipart_upload(upload.key, upload.upload_id, parts, callback=callback)
            self.world.count("completes")
            if callback:
                self.world.count("callbacks 200")
        except CallbackError:
            self.world.count("completes")
            self.world.count("callbacks 203")
        except RequestError:
            self.world.ledger.record(upload.key, version, start, acked=False)
            raise
        self.world.ledger.record(upload.key, version, start, acked=True)
        upload.completing = None


def check_uploads(bucket: Bucket, world: World, found: dict[str, Version | None]) -> int:
    """Open uploads kept every acknowledged part; unacknowledged ones are whole or absent."""
    checked = 0
    for upload in list(world.uploads):
        tag = f"seed {world.seed}: upload {upload.key} {upload.upload_id}"
        try:
            listed = {p.number: p for p in bucket.list_parts(upload.key, upload.upload_id)}
        except NoSuchUpload:
            assert upload.completing is not None, f"{tag} vanished without a Complete"
            observed = found.get(upload.key)
            assert observed is not None and observed.same(upload.completing), (
                f"{tag}: the upload is gone, so its Complete committed, but the object is "
                f"{observed}"
            )
            world.uploads.remove(upload)
            continue
        if upload.completing is not None:
            observed = found.get(upload.key)
            assert observed is None or not observed.same(upload.completing), (
                f"{tag}: the object was committed but its upload survived"
            )
            upload.completing = None
        for number, part in listed.items():
            data = upload.parts.get(number, upload.maybe_parts.get(number))
            assert data is not None, f"{tag}: part {number} nobody uploaded"
            assert (part.etag, part.size) == (hashlib.md5(data).hexdigest().upper(), len(data)), (
                f"{tag}: part {number} is not the bytes that were sent"
            )
            upload.parts[number] = data
            checked += 1
        lost = set(upload.parts) - set(listed)
        assert not lost, f"{tag}: acknowledged parts {sorted(lost)} are gone"
        upload.maybe_parts.clear()
    return checked


def check_after_restart(server: ServeProcess, world: World, data_dir: Path) -> None:
    leftovers = temp_files(data_dir)
    assert not leftovers, f"seed {world.seed}: temp files survived the restart: {leftovers}"
    check_index_matches_files(data_dir)
    with Client(server.url, KEY_ID, SECRET, max_retries=0) as client:
        bucket = client.get_bucket(BUCKET)
        world.stats["objects checked"] += verify_against_ledger(bucket, world.ledger)
        found = {key: writes[0].version for key, writes in world.ledger.writes.items()}
        world.stats["parts checked"] += check_uploads(bucket, world, found)


@pytest.fixture
def receivers():
    ok, failing = CallbackReceiver(), CallbackReceiver()
    failing.respond_with(status=500, body=b'{"error":"app down"}')
    with ok, failing:
        yield ok, failing


def test_acknowledged_writes_survive_sigkill_and_uploads_stay_resumable(tmp_path, receivers):
    seed = int(os.environ.get("OSSEMU_STRESS_SEED") or random.randrange(2**32))
    world = World(seed)
    data_dir = tmp_path / "data"
    urls = (receivers[0].url, receivers[1].url)
    servers: list[ServeProcess] = []
    try:
        kill_rounds(world, data_dir, urls, servers)
        server = ServeProcess(data_dir)
        servers.append(server)
        check_after_restart(server, world, data_dir)
        resumed = len(world.uploads)
        orphans = finish_everything(server, world, data_dir, urls)
        assert server.stop() == 0
    finally:
        for each in servers:
            each.ensure_stopped()
    for each in servers:
        log = each.log_text()
        around = max(0, log.find("Traceback") - 800)  # a negative start would slice the tail
        assert "Traceback" not in log, f"seed {seed}:\n" + log[around:][:4000]
    for receiver in receivers:
        receiver.check()
        for cb in receiver.log:
            # A callback whose sender was killed cannot have its key fetched; any other
            # rejection would mean a signature that does not verify after a restart.
            assert cb.verified or (cb.rejected or "").startswith("cannot fetch the public key")
    stats = world.stats
    print(
        f"\ncrash safety: seed={seed} kills survived={ROUNDS} "
        f"writes acked={world.ledger.acked} unacked={world.ledger.unacked} "
        f"objects checked={stats['objects checked']} parts checked={stats['parts checked']} "
        f"uploads resumed={stats['uploads resumed'] + resumed} "
        f"puts 200={stats['puts 200']} callbacks 200={stats['callbacks 200']} "
        f"203={stats['callbacks 203']} completes={stats['completes']} "
        f"temp files left by kills={stats['temp files left by kills']} (after restart: 0) "
        f"orphan uploads={orphans} lost=0"
    )
    assert world.ledger.acked > 0


def kill_rounds(
    world: World, data_dir: Path, urls: tuple[str, str], servers: list[ServeProcess]
) -> None:
    """Start, check what the last crash left, write concurrently, SIGKILL; ``ROUNDS`` times."""
    rng = random.Random(world.seed)
    for rnd in range(ROUNDS):
        server = ServeProcess(data_dir)
        servers.append(server)
        if rnd == 0:
            with Client(server.url, KEY_ID, SECRET) as client:
                client.create_bucket(BUCKET)
        else:
            check_after_restart(server, world, data_dir)
        killed = threading.Event()
        writers = [Writer(world, w, server.url, urls, rnd) for w in range(WRITERS)]
        threads = [threading.Thread(target=w.run, args=(killed,)) for w in writers]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.15, 0.6))
        killed.set()
        server.kill()
        world.stats["temp files left by kills"] += len(temp_files(data_dir))
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a writer hung after the kill"
        assert not world.errors, f"seed {world.seed}: {world.errors}"


def finish_everything(
    server: ServeProcess, world: World, data_dir: Path, urls: tuple[str, str]
) -> int:
    """Complete every upload left open by the kills, check it all once more; return how many
    uploads nobody knows of (their Initiate was never acknowledged)."""
    finisher = Writer(world, 99, server.url, urls, ROUNDS)
    with Client(server.url, KEY_ID, SECRET, max_retries=0) as client:
        bucket = client.get_bucket(BUCKET)
        for upload in list(world.uploads):
            world.uploads.remove(upload)
            finisher.finish(bucket, upload)
        check_index_matches_files(data_dir)
        world.stats["objects checked"] += verify_against_ledger(bucket, world.ledger)
        return len(list(bucket.list_multipart_uploads()))
