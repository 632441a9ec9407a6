"""Writers of one process share COMMITs, and none is told "done" before its COMMIT is."""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ossemu.emulator.protocol.errors import OssError
from ossemu.emulator.storage.group_commit import DurableWal, GroupCommit
from ossemu.emulator.storage.index import Index


class Counted:
    """The cross-process lock's two halves, counting how often a batch took it."""

    def __init__(self) -> None:
        self.taken = 0
        self.held = False

    def acquire(self) -> None:
        assert not self.held
        self.held = True
        self.taken += 1

    def release(self) -> None:
        assert self.held
        self.held = False


def group_on(path: Path, lock: Counted, max_batch: int = 64) -> GroupCommit:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE t (k TEXT PRIMARY KEY, parent INTEGER"
        " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    return GroupCommit(db, lock.acquire, lock.release, max_batch=max_batch)


def committed(path: Path) -> set[str]:
    """What another connection (another process's view) sees."""
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT k FROM t")}
    finally:
        db.close()


def run_together(n: int, work) -> list[BaseException | None]:
    """``work(i)`` on ``n`` threads released at once; what each raised."""
    start = threading.Barrier(n)
    errors: list[BaseException | None] = [None] * n

    def one(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            errors[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


def test_concurrent_writers_share_commits_and_each_is_durable_on_return(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock)
    seen_on_return: dict[int, bool] = {}

    def write(i: int) -> None:
        with group.transaction() as db:
            db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))
        seen_on_return[i] = f"k{i}" in committed(path)

    assert run_together(32, write) == [None] * 32
    assert committed(path) == {f"k{i}" for i in range(32)}
    assert all(seen_on_return.values()) and len(seen_on_return) == 32
    assert lock.taken < 32 and not lock.held  # fewer transactions (so fsyncs) than writes


def test_a_failing_block_is_rolled_back_alone(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock)

    def write(i: int) -> None:
        with group.transaction() as db:
            db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))
            if i % 3 == 0:
                raise KeyError(i)

    errors = run_together(12, write)
    assert [i for i, e in enumerate(errors) if e is not None] == [0, 3, 6, 9]
    assert all(isinstance(errors[i], KeyError) for i in (0, 3, 6, 9))
    assert committed(path) == {f"k{i}" for i in range(12) if i % 3}
    assert not lock.held


def test_a_failed_commit_fails_every_member_of_its_batch_and_keeps_nothing(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock)
    inside = threading.Event()
    go_on = threading.Event()
    results: dict[str, BaseException | None] = {}

    def first() -> None:  # holds the turn until the others queue behind it
        try:
            with group.transaction() as db:
                db.execute("INSERT INTO t (k) VALUES ('first')")
                inside.set()
                go_on.wait(10)
            results["first"] = None
        except BaseException as e:  # noqa: BLE001
            results["first"] = e

    def member(name: str, parent: int | None) -> None:
        try:
            with group.transaction() as db:
                db.execute("INSERT INTO t (k, parent) VALUES (?, ?)", (name, parent))
            results[name] = None
        except BaseException as e:  # noqa: BLE001
            results[name] = e

    t1 = threading.Thread(target=first)
    t1.start()
    inside.wait(10)
    others = [
        threading.Thread(target=member, args=("ok", None)),
        # A deferred foreign key fails at COMMIT, after the block returned without error.
        threading.Thread(target=member, args=("dangling", 42)),
    ]
    for t in others:
        t.start()
    while group._queued < 2:  # noqa: SLF001 - both queued behind the first block
        threading.Event().wait(0.01)
    go_on.set()
    for t in [t1, *others]:
        t.join(timeout=30)
    # The first block may have committed alone (nobody had queued yet when it ended) or with
    # the others; whichever batch held the dangling row failed as a whole.
    assert isinstance(results["dangling"], sqlite3.IntegrityError)
    failed = {name for name, e in results.items() if e is not None}
    assert committed(path) == {"first", "ok", "dangling"} - failed
    assert all(isinstance(results[n], sqlite3.IntegrityError) for n in failed)
    assert not lock.held
    with group.transaction() as db:  # and the next writer starts afresh
        db.execute("INSERT INTO t (k) VALUES ('after')")
    assert "after" in committed(path)


def test_a_batch_commits_at_its_size_limit(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock, max_batch=2)

    def write(i: int) -> None:
        with group.transaction() as db:
            db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))

    assert run_together(10, write) == [None] * 10
    assert lock.taken >= 5  # never more than two members per transaction


def test_a_block_reads_its_own_writes_through_the_index(tmp_path):
    index = Index(tmp_path / "index.sqlite3")
    try:
        with index.write() as db:
            db.execute("INSERT INTO buckets (name, created, region) VALUES ('b', 0, 'r')")
            assert index.read().execute("SELECT name FROM buckets").fetchall()[0][0] == "b"
        assert index.read() is not db  # outside the block, this thread's own connection
    finally:
        index.close()


def test_the_index_refuses_writes_once_closed(tmp_path):
    index = Index(tmp_path / "index.sqlite3")
    index.close()
    with pytest.raises(sqlite3.ProgrammingError), index.write():
        pass


class CountedWal(DurableWal):
    """The real fsync, counted: how many ran, and how many COMMITs each covered."""

    def __init__(self, wal: Path, fail_first: bool = False) -> None:
        super().__init__(wal)
        self.covered: list[int] = []
        self.fail_first = fail_first

    def _sync(self) -> None:
        self.covered.append(self._count)
        if self.fail_first and len(self.covered) == 1:
            raise OSError(errno.EIO, "I/O error")
        super()._sync()


def durable_group_on(path: Path, wal: DurableWal) -> GroupCommit:
    group = group_on(path, Counted())
    group.db.execute("PRAGMA synchronous=NORMAL")
    group.durable = wal
    return group


def test_writes_are_acknowledged_after_an_fsync_that_covers_them(tmp_path):
    path = tmp_path / "db"
    wal = CountedWal(Path(f"{path}-wal"))
    group = durable_group_on(path, wal)

    def write(i: int) -> None:
        with group.transaction() as db:
            db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))
        assert wal._synced >= 1 and wal.covered  # noqa: SLF001

    assert run_together(24, write) == [None] * 24
    assert committed(path) == {f"k{i}" for i in range(24)}
    assert wal.covered[-1] == wal._count  # noqa: SLF001 - the last fsync covered every COMMIT
    assert len(wal.covered) <= wal._count  # noqa: SLF001 - never more fsyncs than COMMITs


def test_a_failed_fsync_fails_the_writes_it_covered_and_the_next_one_syncs_again(tmp_path):
    path = tmp_path / "db"
    wal = CountedWal(Path(f"{path}-wal"), fail_first=True)
    group = durable_group_on(path, wal)
    with pytest.raises(OSError, match="I/O error"), group.transaction() as db:
        db.execute("INSERT INTO t (k) VALUES ('lost?')")
    with group.transaction() as db:
        db.execute("INSERT INTO t (k) VALUES ('next')")
    assert len(wal.covered) == 2 and "next" in committed(path)


# -- members handed over as functions (``run``): whichever thread holds the turn runs them ----


def hold_the_turn(group: GroupCommit, queued: Callable[[], bool]):
    """A block that keeps the connection until ``queued()``; returns its thread and a list of
    its ident, then what it raised."""
    inside, ident = threading.Event(), []

    def first() -> None:
        try:
            with group.transaction() as db:
                ident.append(threading.get_ident())
                db.execute("INSERT INTO t (k) VALUES ('first')")
                inside.set()
                while not queued():
                    threading.Event().wait(0.005)
            ident.append(None)
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            ident.append(e)

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(10)
    return thread, ident


def start_all(targets: list[Callable[[], None]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    return threads


def test_functions_queued_behind_a_writer_run_on_its_thread_in_its_batch(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock)
    ran_on: dict[int, int] = {}
    results: dict[int, object] = {}

    def insert(i: int) -> Callable[[sqlite3.Connection], str]:
        def fn(db: sqlite3.Connection) -> str:
            ran_on[i] = threading.get_ident()
            db.execute("INSERT INTO t (k) VALUES (?)", (f"f{i}",))
            return f"done {i}"

        return fn

    def caller(i: int) -> Callable[[], None]:
        def call() -> None:
            results[i] = group.run(insert(i))
            results[-i - 1] = f"f{i}" in committed(path)  # durable on return

        return call

    holder, ident = hold_the_turn(group, lambda: len(group._pending) == 6)  # noqa: SLF001
    threads = start_all([caller(i) for i in range(6)])
    for t in [holder, *threads]:
        t.join(timeout=30)
    assert {i: results[i] for i in range(6)} == {i: f"done {i}" for i in range(6)}
    assert all(results[-i - 1] for i in range(6))
    assert set(ran_on.values()) == {ident[0]}  # no hand-off of the connection between threads
    assert lock.taken == 1 and not lock.held  # one transaction for the block and six functions
    assert committed(path) == {"first", *(f"f{i}" for i in range(6))}


def test_a_failing_function_is_rolled_back_alone_and_raises_in_its_caller(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock)
    errors: dict[int, BaseException | None] = {}

    def caller(i: int) -> Callable[[], None]:
        def fn(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO t (k) VALUES (?)", (f"f{i}",))
            if i % 2:
                raise KeyError(i)

        def call() -> None:
            try:
                group.run(fn)
                errors[i] = None
            except BaseException as e:  # noqa: BLE001 - recorded for the assertion
                errors[i] = e

        return call

    holder, _ = hold_the_turn(group, lambda: len(group._pending) == 4)  # noqa: SLF001
    threads = start_all([caller(i) for i in range(4)])
    for t in [holder, *threads]:
        t.join(timeout=30)
    assert errors[0] is None and errors[2] is None
    assert isinstance(errors[1], KeyError) and isinstance(errors[3], KeyError)
    assert committed(path) == {"first", "f0", "f2"}
    assert not lock.held


def test_a_failed_commit_fails_every_function_of_its_batch(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock)
    errors: dict[str, BaseException | None] = {}

    def caller(name: str, parent: int | None) -> Callable[[], None]:
        def call() -> None:
            try:
                group.run(
                    lambda db: db.execute("INSERT INTO t (k, parent) VALUES (?, ?)", (name, parent))
                )
                errors[name] = None
            except BaseException as e:  # noqa: BLE001
                errors[name] = e

        return call

    holder, ident = hold_the_turn(group, lambda: len(group._pending) == 2)  # noqa: SLF001
    threads = start_all([caller("ok", None), caller("dangling", 42)])  # fails at COMMIT
    for t in [holder, *threads]:
        t.join(timeout=30)
    assert isinstance(ident[1], sqlite3.IntegrityError)
    assert isinstance(errors["ok"], sqlite3.IntegrityError)
    assert isinstance(errors["dangling"], sqlite3.IntegrityError)
    assert committed(path) == set()  # the block's row went with its batch too
    assert group.run(lambda db: db.execute("INSERT INTO t (k) VALUES ('after')")) is not None
    assert committed(path) == {"after"}


def test_a_function_whose_transaction_cannot_begin_gets_the_error_and_others_go_on(tmp_path):
    path = tmp_path / "db"

    class FailsOnce(Counted):
        def acquire(self) -> None:
            if self.taken == 0:
                self.taken += 1
                raise OSError(errno.ENOLCK, "no locks available")
            super().acquire()

    lock = FailsOnce()
    group = group_on(path, lock)
    with pytest.raises(OSError, match="no locks"):
        group.run(lambda db: db.execute("INSERT INTO t (k) VALUES ('lost')"))
    assert group.run(lambda db: db.execute("INSERT INTO t (k) VALUES ('next')").rowcount) == 1
    assert committed(path) == {"next"} and not lock.held


def test_many_functions_and_blocks_together_keep_every_write_and_the_batch_limit(tmp_path):
    path, lock = tmp_path / "db", Counted()
    group = group_on(path, lock, max_batch=4)

    def write(i: int) -> None:
        if i % 2:
            with group.transaction() as db:
                db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))
        else:
            group.run(lambda db: db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",)))
        assert f"k{i}" in committed(path)

    assert run_together(40, write) == [None] * 40
    assert committed(path) == {f"k{i}" for i in range(40)}
    assert 10 <= lock.taken < 40 and not lock.held  # shared, and never above four per batch


def test_index_run_is_durable_and_maps_a_full_disk(tmp_path):
    index = Index(tmp_path / "index.sqlite3")
    try:
        name = index.run(
            lambda db: db.execute(
                "INSERT INTO buckets (name, created, region) VALUES ('b', 0, 'r') RETURNING name"
            ).fetchone()[0]
        )
        assert name == "b"

        def fills_the_disk(db: sqlite3.Connection) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        with pytest.raises(OssError) as raised:
            index.run(fills_the_disk)
        assert raised.value.code == "InsufficientStorage"
    finally:
        index.close()
