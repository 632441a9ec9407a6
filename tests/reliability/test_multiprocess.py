"""Several processes, one data dir: gunicorn with 4 workers, and two ``ossemu serve`` processes.

Clients spread over the processes race on one key, one upload id and one bucket name. Whatever
the interleaving, every read sees one whole version, the last state is a version a writer could
have left, losers get OSS's error for the race, and the index matches the blob files.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ossemu.client import (
    Client,
    NoSuchBucket,
    PartResult,
    ServerError,
)
from tests.reliability.helpers import (
    KEY_ID,
    SECRET,
    GunicornProcess,
    Ledger,
    ServeProcess,
    Version,
    check_index_matches_files,
    read_version,
    temp_files,
    verify_against_ledger,
)

THREADS = 8
PART = 100 * 1024


class Topology:
    """Processes serving one data dir; each client thread talks to one of them."""

    def __init__(self, name: str, data_dir: Path, urls: list[str]) -> None:
        self.name, self.data_dir, self.urls = name, data_dir, urls

    def client(self, n: int) -> Client:
        return Client(self.urls[n % len(self.urls)], KEY_ID, SECRET, max_retries=0)


@pytest.fixture(scope="module", params=["gunicorn-4-workers", "two-serve-processes"])
def topology(request, tmp_path_factory) -> Iterator[Topology]:
    data_dir = tmp_path_factory.mktemp(request.param) / "data"
    if request.param == "gunicorn-4-workers":
        gunicorn = GunicornProcess(data_dir, workers=4)
        yield Topology(request.param, data_dir, [gunicorn.url])
        gunicorn.stop()
        logs = gunicorn.log_text()
    else:
        first, second = ServeProcess(data_dir), ServeProcess(data_dir)
        yield Topology(request.param, data_dir, [first.url, second.url])
        first.interrupt()
        second.interrupt()
        assert (first.wait(), second.wait()) == (0, 0)
        logs = first.log_text() + second.log_text()
    assert "Traceback" not in logs
    assert not temp_files(data_dir)
    check_index_matches_files(data_dir)


@pytest.fixture
def bucket_name(topology: Topology) -> str:
    name = f"mp-{uuid.uuid4().hex[:12]}"
    with topology.client(0) as client:
        client.create_bucket(name)
    return name


def run_threads(target: Callable[[int], None], n: int = THREADS) -> list[BaseException]:
    """Run ``target(i)`` in ``n`` threads released together; return what they raised."""
    errors: list[BaseException] = []
    gate = threading.Barrier(n)

    def body(i: int) -> None:
        try:
            gate.wait()
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    return errors


def test_concurrent_overwrites_of_one_key_leave_one_whole_version(topology, bucket_name):
    rng = random.Random(7)
    payloads = [
        [(rng.randbytes(rng.choice((0, 10, 70_000, 300_000))), f"{i}.{seq}") for seq in range(6)]
        for i in range(THREADS)
    ]
    versions = [
        Version.of(
            data, "application/octet-stream", {"v": tag}, hashlib.md5(data).hexdigest().upper()
        )
        for mine in payloads
        for data, tag in mine
    ]
    ledger = Ledger()
    torn: list[Version] = []
    done = threading.Event()

    def writer(i: int) -> None:
        with topology.client(i) as client:
            bucket = client.get_bucket(bucket_name)
            for data, tag in payloads[i]:
                start = time.monotonic()
                etag = bucket.put_object("hot", data, metadata={"v": tag}).etag
                version = Version.of(data, "application/octet-stream", {"v": tag}, etag)
                ledger.record("hot", version, start, acked=True)

    def reader(i: int) -> None:
        with topology.client(i) as client:
            bucket = client.get_bucket(bucket_name)
            while not done.is_set():
                seen = read_version(bucket, "hot")  # the client checks CRC-64 as it reads
                if seen is not None and not any(seen.same(v) for v in versions):
                    torn.append(seen)

    readers = threading.Thread(target=run_threads, args=(reader, 2))
    readers.start()
    errors = run_threads(writer)
    done.set()
    readers.join()
    assert not errors, errors
    assert not torn, f"a reader saw a version no writer wrote: {torn[:3]}"
    with topology.client(0) as client:
        assert verify_against_ledger(client.get_bucket(bucket_name), ledger) == 1
    counts = check_index_matches_files(topology.data_dir)
    print(f"\n{topology.name}: {len(versions)} racing overwrites of one key; index {counts}")


def test_concurrent_completes_of_one_upload_commit_once(topology, bucket_name):
    with topology.client(0) as client:
        bucket = client.get_bucket(bucket_name)
        upload_id = bucket.init_multipart_upload("joined")
        data = [random.randbytes(PART), random.randbytes(PART), b"tail"]
        parts = [bucket.upload_part("joined", upload_id, n + 1, d) for n, d in enumerate(data)]
    outcomes: Counter[str] = Counter()

    def complete(i: int) -> None:
        with topology.client(i) as client:
            try:
                client.get_bucket(bucket_name).complete_multipart_upload("joined", upload_id, parts)
                outcomes["200"] += 1
            except ServerError as exc:
                outcomes[f"{exc.status} {exc.code}"] += 1

    assert not run_threads(complete)
    assert outcomes == {"200": 1, "404 NoSuchUpload": THREADS - 1}
    with topology.client(0) as client:
        assert client.get_bucket(bucket_name).get_object("joined") == b"".join(data)
    check_index_matches_files(topology.data_dir)


def test_concurrent_completes_of_one_key_leave_one_whole_object(topology, bucket_name):
    ledger = Ledger()
    uploads = []
    with topology.client(0) as client:
        bucket = client.get_bucket(bucket_name)
        for i in range(THREADS):
            upload_id = bucket.init_multipart_upload("same-key", metadata={"upload": str(i)})
            data = [random.randbytes(PART), random.randbytes(1000 + i)]
            parts = [
                bucket.upload_part("same-key", upload_id, n + 1, d) for n, d in enumerate(data)
            ]
            uploads.append((upload_id, parts, b"".join(data)))

    def complete(i: int) -> None:
        upload_id, parts, data = uploads[i]
        version = Version.of(data, "application/octet-stream", {"upload": str(i)})
        with topology.client(i) as client:
            start = time.monotonic()
            client.get_bucket(bucket_name).complete_multipart_upload(
                "same-key", upload_id, [PartResult(p.number, p.etag) for p in parts]
            )
        ledger.record("same-key", version, start, acked=True)

    assert not run_threads(complete)
    with topology.client(0) as client:
        bucket = client.get_bucket(bucket_name)
        assert verify_against_ledger(bucket, ledger) == 1
        assert list(bucket.list_multipart_uploads()) == []
    check_index_matches_files(topology.data_dir)


def test_concurrent_bucket_create_and_delete_never_strand_objects(topology):
    names = [f"flip-{uuid.uuid4().hex[:8]}-{n}" for n in range(2)]
    expected = {"409 BucketNotEmpty", "404 NoSuchBucket", "404 NoSuchKey"}
    unexpected: list[str] = []
    seen: Counter[str] = Counter()

    def flipper(i: int) -> None:
        rng = random.Random(i)
        with topology.client(i) as client:
            for _ in range(15):
                name = rng.choice(names)
                bucket = client.get_bucket(name)
                try:
                    step = rng.randrange(4)
                    if step == 0:
                        client.create_bucket(name)
                    elif step == 1:
                        bucket.put_object(f"k{i}", b"x" * rng.randrange(1, 5000))
                    elif step == 2:
                        bucket.delete_object(f"k{rng.randrange(THREADS)}")
                    else:
                        client.delete_bucket(name)
                    seen["ok"] += 1
                except ServerError as exc:
                    outcome = f"{exc.status} {exc.code}"
                    seen[outcome] += 1
                    if outcome not in expected:
                        unexpected.append(outcome)

    assert not run_threads(flipper)
    assert not unexpected, unexpected
    with topology.client(0) as client:
        listed = {b.name for b in client.list_buckets(prefix="flip-")}
        for name in names:
            bucket = client.get_bucket(name)
            try:
                objects = list(bucket.list_objects())
            except NoSuchBucket:
                assert name not in listed
                continue
            assert name in listed
            for summary in objects:
                found = read_version(bucket, summary.key)
                assert found is not None and found.size == summary.size, (name, summary)
    check_index_matches_files(topology.data_dir)
    print(f"\n{topology.name}: bucket create/delete race outcomes {dict(seen)}")
