"""Group commit: the write transactions queued in one process share one COMMIT, and the
COMMITs of a process share their fsyncs, done outside every lock.

Every acknowledged write must survive a power cut. With ``synchronous=FULL`` each COMMIT fsynced
the WAL while it held the cross-process write lock, so the 4 KiB PUT rate was the disk's fsync
rate, one writer at a time (``bench/analysis.md``, issue 16). Here the writers of a process take
turns on one connection: the first opens a transaction (and takes the cross-process lock), each
runs its block inside a SAVEPOINT, and the member that finds nobody queued behind it (or the
batch full) COMMITs for all of them while the next ones queue. The COMMIT appends to the WAL
without an fsync (``synchronous=NORMAL``) and the locks are let go; then :class:`DurableWal`
fsyncs the WAL once for every COMMIT its process made before the fsync began, while the next
batches already write (each process syncs for its own: one shared by the processes was measured
and gained nothing, ``bench/analysis.md``). A member's ``with`` returns only once an fsync that
began after its COMMIT has ended, so nothing is acknowledged before it is durable; a block that
raises is rolled back to its own savepoint and the others keep theirs. If the COMMIT or the
fsync fails, every member of the batch gets the error.

Why NORMAL plus an fsync is as safe as FULL: SQLite in NORMAL still syncs the WAL before a
checkpoint copies it and syncs a restarted WAL's header before writing frames after it, so the
file is never inconsistent; what NORMAL gives up is only that the last COMMITs may be lost,
and the fsync of the WAL file before the answer is what FULL would have done at COMMIT.

One connection for all writers also keeps its page cache: with a connection per thread, each
write made by another connection emptied it, and every transaction read its pages again.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from .blobs import fsync_dir

#: A batch COMMITs at this many members even with more queued, so no write waits behind an
#: unbounded number of others.
MAX_BATCH = 64

T = TypeVar("T")


class _Queued:
    """A member handed over as a function: whichever thread holds the connection runs it."""

    __slots__ = ("fn", "ran", "batch", "result", "error")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        self.fn = fn
        self.ran = threading.Lock()  # held until its batch's COMMIT has ended
        self.ran.acquire()
        self.batch = 0
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Write transactions on ``db`` (one connection, used by one thread at a time) whose
    COMMITs are shared. ``acquire``/``release`` hold the lock between processes for the whole
    of a batch's transaction."""

    def __init__(
        self,
        db: sqlite3.Connection,
        acquire: Callable[[], None],
        release: Callable[[], None],
        max_batch: int = MAX_BATCH,
        durable: DurableWal | None = None,
    ) -> None:
        self.db = db
        self.durable = durable  # None: each COMMIT syncs itself (synchronous=FULL)
        self.max_batch = max_batch
        self._acquire, self._release = acquire, release
        self._turn = threading.Lock()  # whose block runs on the connection now
        self._queued = 0  # threads waiting for their turn (read under _turn)
        self._queued_lock = threading.Lock()
        self._pending: collections.deque[_Queued] = collections.deque()  # functions to run
        self._ran: list[_Queued] = []  # functions run in the open batch, woken at its end
        self._done = threading.Condition()
        self._open = False  # a batch's transaction is open (and the process lock held)
        self._batch = 0  # the number of the open (or last) batch
        self._members = 0
        self._committed = 0  # the last batch whose COMMIT has ended
        # batch -> (its error, or its COMMIT's place in the WAL's order for DurableWal)
        self._ends: dict[int, tuple[BaseException | None, int]] = {}

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """One member whose work is ``fn(db)``; returns its result once its batch is durable.

        Whichever thread holds the connection runs queued functions one after the other, so
        a batch holds the lock between processes without a hand-off between threads for each
        member (each of which waited for a core and for the GIL while the lock was held)."""
        member = _Queued(fn)
        with self._queued_lock:
            self._pending.append(member)
        if self._turn.acquire(blocking=False):
            self._finish_turn()
        member.ran.acquire()  # a thread holding the turn always drains _pending before it leaves
        self._wait_for(member.batch)
        if member.error is not None:
            raise member.error
        return cast(T, member.result)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One member's transaction: returns once its batch is durable, raises if it is not."""
        with self._queued_lock:
            self._queued += 1
        self._turn.acquire()
        with self._queued_lock:
            self._queued -= 1
        try:
            with self._member() as batch:
                yield self.db
        finally:
            self._finish_turn()
        self._wait_for(batch)

    def _finish_turn(self) -> None:
        """With the turn held: run the queued functions, COMMIT unless a thread is about to
        join, and let the turn go; take it back if functions were queued meanwhile, since
        their threads only wait for a holder of the turn to run them."""
        while True:
            try:
                while True:
                    if self._open and self._members >= self.max_batch:
                        self._commit()
                    with self._queued_lock:
                        member = self._pending.popleft() if self._pending else None
                    if member is None:
                        break
                    self._run_member(member)
                if self._open and not self._queued:
                    self._commit()
            finally:
                self._turn.release()
            if not self._pending or not self._turn.acquire(blocking=False):
                return

    def _run_member(self, member: _Queued) -> None:
        try:
            with self._member() as batch:
                member.batch = batch
                self._ran.append(member)  # woken when the batch ends, however it ends
                try:
                    member.result = member.fn(self.db)
                except BaseException as error:
                    member.error = error  # before the batch may end (and wake it) on it
                    raise
        except BaseException as error:
            if not member.batch:  # no transaction began: nothing of it ran
                member.error = error
                member.ran.release()

    @contextmanager
    def _member(self) -> Iterator[int]:
        """One member's work in the open batch (opened if none is), with the turn held: the
        batch's first is undone by ROLLBACK, a later one by its own SAVEPOINT."""
        batch = self._join()
        alone = self._members == 0
        try:
            if not alone:
                self.db.execute("SAVEPOINT member")
            yield batch
            if not alone:
                self.db.execute("RELEASE member")
            self._members += 1
        except BaseException as error:
            if alone:
                self._end(batch, None, roll_back=True)
            else:
                self._undo_member(batch, error)
            raise

    def _join(self) -> int:
        if not self._open:
            self._acquire()
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._release()
                raise
            self._open, self._members = True, 0
            self._batch += 1
        return self._batch

    def _undo_member(self, batch: int, error: BaseException) -> None:
        """Roll back one member's block; if SQLite dropped the whole transaction (as it may on
        a full disk), the batch is lost and its earlier members are told."""
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK TO member")
                self.db.execute("RELEASE member")
                return
            except sqlite3.Error:
                pass
        self._end(batch, error, roll_back=True)

    def _commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except BaseException as error:
            self._end(self._batch, error, roll_back=True)
        else:
            self._end(self._batch, None, roll_back=False)

    def _end(self, batch: int, error: BaseException | None, *, roll_back: bool) -> None:
        if roll_back and self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
        ticket = self.durable.committed() if self.durable and not roll_back else 0
        self._open = False
        self._release()
        with self._done:
            self._ends[batch] = (error, ticket)
            self._ends.pop(batch - 1024, None)  # long since read by every member
            self._committed = batch
            self._done.notify_all()
        ran, self._ran = self._ran, []
        for member in ran:
            member.ran.release()

    def _wait_for(self, batch: int) -> None:
        with self._done:
            while self._committed < batch:
                self._done.wait()
            error, ticket = self._ends.get(batch, (None, 0))
        if error is not None:
            raise error
        if self.durable is not None:
            self.durable.wait(ticket)


class DurableWal:
    """fsyncs of the WAL file shared by the COMMITs waiting for one (leader and followers).

    :meth:`committed` numbers each COMMIT once it has returned; :meth:`wait` returns once an
    fsync that began after that COMMIT has ended. One thread of the process fsyncs at a time;
    those arriving meanwhile wait for it and then one of them fsyncs for all who are left.
    """

    def __init__(self, wal: Path) -> None:
        self.path = wal
        self._fd: int | None = None
        self._ino = 0
        self._cond = threading.Condition()
        self._count = 0  # COMMITs made so far
        self._synced = 0  # COMMITs known durable
        self._syncing = False
        self._error: tuple[int, BaseException] | None = None

    def committed(self) -> int:
        with self._cond:
            self._count += 1
            return self._count

    def wait(self, ticket: int) -> None:
        with self._cond:
            while True:
                if self._error is not None and self._error[0] >= ticket:
                    raise self._error[1]  # pages an fsync failed on may be gone: never "done"
                if self._synced >= ticket:
                    return
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                covers = self._count
                self._cond.release()
                try:
                    self._sync()
                except BaseException as error:
                    self._cond.acquire()
                    self._error = (covers, error)
                    raise
                else:
                    self._cond.acquire()
                    self._synced = max(self._synced, covers)
                finally:
                    self._syncing = False
                    self._cond.notify_all()

    def _sync(self) -> None:
        """fdatasync the WAL as it is now (re-opened if SQLite made it anew since)."""
        ino = os.stat(self.path).st_ino
        if self._fd is None or ino != self._ino:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._fd = os.open(self.path, os.O_RDONLY)
            self._ino = os.fstat(self._fd).st_ino
            fsync_dir(self.path.parent)  # the WAL's own name must survive the power cut too
        getattr(os, "fdatasync", os.fsync)(self._fd)

    def close(self) -> None:
        with self._cond:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
