"""Fault rules kept in one SQLite file, so every process serving a data dir sees the same rules.

Two ``FaultInjector(path)`` objects on one file stand for two processes; one test uses two real
processes as well.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ossemu.emulator.faults import FaultInjector


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "faults.sqlite3"


@pytest.fixture
def injectors(path: Path):
    """Two processes' views of one faults file."""
    first, second = FaultInjector(path), FaultInjector(path)
    yield first, second
    first.close()
    second.close()


@pytest.fixture
def injector(path: Path):
    injector = FaultInjector(path)
    yield injector
    injector.close()


def put(injector: FaultInjector, key: str = "k"):
    return injector.take("PutObject", "bucket", key)


def test_the_first_matching_rule_fires_and_counts_down(injector):
    other_key = injector.add(operation="PutObject", key="other")
    first = injector.add(operation="PutObject", times=2, status=503, code="SlowDown", delay=0.5)
    third = injector.add(operation="PutObject", times=5)

    fired = put(injector)
    assert (fired.id, fired.status, fired.code, fired.delay) == (first.id, 503, "SlowDown", 0.5)
    assert (fired.times, fired.hits) == (1, 1)
    assert put(injector).id == first.id
    assert (first.times, first.hits) == (0, 2)  # the object add() returned follows its rule
    assert put(injector).times == 4  # the first rule is gone; the next one matches
    assert [r["id"] for r in injector.list()] == [other_key.id, third.id]
    assert injector.take("GetObject", "bucket", "k") is None

    injector.clear()
    assert injector.list() == [] and put(injector, "other") is None


def test_a_rule_added_in_one_process_fires_in_the_other(injectors):
    first, second = injectors
    rule = first.add(operation="PutObject", key="k", status=503)
    fired = put(second)
    assert fired is not None and (fired.id, fired.status) == (rule.id, 503)
    assert put(second) is None and put(first) is None


def test_times_count_down_across_processes(injectors):
    first, second = injectors
    rule = first.add(operation="PutObject", times=3)
    assert put(second).hits == 1
    assert second.list() == first.list() == [{**rule.to_dict(), "times": 2, "hits": 1}]
    assert put(first).hits == 2
    assert put(second).hits == 3
    assert put(first) is None and put(second) is None
    assert first.list() == second.list() == []


def test_list_and_clear_are_seen_by_every_process(injectors):
    first, second = injectors
    first.add(operation="PutObject", key="a")
    second.add(operation="GetObject", key="b", action="drop")
    assert first.list() == second.list()
    assert [(r["operation"], r["key"], r["action"]) for r in first.list()] == [
        ("PutObject", "a", "error"),
        ("GetObject", "b", "drop"),
    ]
    put(first, "a")  # the rule is now cached by the first process

    second.clear()
    assert first.list() == [] and put(first, "a") is None


def test_ids_are_unique_across_processes_and_never_reused(injectors):
    first, second = injectors
    ids = [injector.add(key=str(n)).id for n in range(4) for injector in injectors]
    first.clear()
    ids.append(second.add().id)
    assert len(set(ids)) == len(ids) == 9
    assert ids == sorted(ids)


def test_racing_threads_fire_a_rule_exactly_times_times(injectors):
    injectors[0].add(operation="PutObject", times=50)
    start = threading.Barrier(8)

    def take_25(n: int) -> list[int]:
        injector = injectors[n % 2]
        start.wait()
        return [fault.hits for _ in range(25) if (fault := put(injector)) is not None]

    with ThreadPoolExecutor(8) as pool:
        hits = [h for thread in pool.map(take_25, range(8)) for h in thread]
    assert sorted(hits) == list(range(1, 51))  # each firing counted once, none twice
    assert injectors[1].list() == []


RACER = """
import sys, threading
from pathlib import Path
from ossemu.emulator.faults import FaultInjector

injector = FaultInjector(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
fired = []
def take():
    for _ in range(60):
        fault = injector.take("PutObject", "bucket", "k")
        if fault is not None:
            fired.append(fault.hits)
threads = [threading.Thread(target=take) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
injector.close()
print(" ".join(map(str, fired)))
"""


def test_racing_processes_fire_a_rule_exactly_times_times(path):
    setup = FaultInjector(path)
    setup.add(operation="PutObject", times=200)
    setup.close()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for racer in racers:
        assert racer.stdout.readline() == "ready\n"
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]

    assert [racer.returncode for racer in racers] == [0, 0]
    hits = [int(h) for output in outputs for h in output.split()]
    # Exactly 200 in all, each hit count once: however the scheduler interleaved the two (on a
    # loaded machine one process can take every use before the other starts, so no split is
    # asserted).
    assert sorted(hits) == list(range(1, 201))


def test_a_corrupt_file_is_replaced_by_an_empty_one(path):
    path.write_bytes(b"this is not a database\n" * 500)
    injector = FaultInjector(path)
    try:
        assert injector.list() == []
        injector.add(operation="PutObject")
        assert put(injector) is not None
    finally:
        injector.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_file_corrupted_under_running_processes_never_fails_a_request(injectors, path, caplog):
    first, second = injectors
    first.add(operation="GetObject", times=100)
    put(second)  # both have read the rules
    with sqlite3.connect(path) as db:  # the rules now live in the main file, not in the WAL
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path.write_bytes(b"garbage" * 4000)

    for _ in range(3):
        put(second)
        second.take("GetObject", "bucket", "k")  # may still fire from the cached rules
    rule = first.add(operation="PutObject", key="after")
    assert [r["id"] for r in second.list()][-1] == rule.id
    assert put(second, "after").id == rule.id
    assert "is unreadable (file is not a database): starting empty" in caplog.text


def test_deleted_files_are_recreated_and_followed_by_every_process(injectors, path):
    first, second = injectors
    first.add(operation="GetObject")
    for leftover in path.parent.glob("faults.sqlite3*"):
        leftover.unlink()

    assert put(second) is None  # no error; the deleted rule may not match anyway
    rule = first.add(operation="PutObject", key="new")
    assert put(second, "new").id == rule.id
    restarted = FaultInjector(path)
    try:
        assert restarted.list() == []
    finally:
        restarted.close()


def test_while_the_file_cannot_be_opened_requests_see_no_rules(injectors, path):
    first, second = injectors
    first.add(operation="PutObject")
    for leftover in path.parent.glob("faults.sqlite3*"):
        leftover.unlink()
    path.mkdir()  # now nothing can open or create the database

    assert put(second) is None
    assert put(second) is None
    with pytest.raises(sqlite3.OperationalError):
        first.add(operation="PutObject")  # the control API answers 500; requests do not

    path.rmdir()
    rule = first.add(operation="PutObject")
    assert [r["id"] for r in second.list()] == [rule.id]
    assert put(second).id == rule.id


def test_close_releases_every_connection_even_with_a_thread_per_request(path):
    injector = FaultInjector(path)
    injector.add(operation="PutObject", times=1000)
    for _ in range(30):  # as Werkzeug's threaded server: a new thread for each request
        thread = threading.Thread(target=lambda: (put(injector), injector.list()))
        thread.start()
        thread.join()
    assert 0 < open_files(path) <= 4  # one connection (database, WAL, shared memory) + version

    injector.close()
    assert open_files(path) == 0
    assert not Path(f"{path}-wal").exists()  # the last connection closed checkpoints the WAL


def open_files(path: Path) -> int:
    """How many of this process's file descriptors point at the faults database."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if _target(fd).startswith(str(path)))


def _target(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:
        return ""
