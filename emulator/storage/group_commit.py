"""Group commit: the write transactions queued in one process share one COMMIT, so one fsync.

Every acknowledged write must survive a power cut, so each COMMIT fsyncs the WAL
(``synchronous=FULL``), and with one COMMIT per write the 4 KiB PUT rate was the disk's fsync
rate (``bench/analysis.md``, issue 16). Here the writers of a process take turns on one
connection: the first opens a transaction (and takes the cross-process lock), each runs its block
inside a SAVEPOINT, and the member that finds nobody queued behind it (or the batch full) COMMITs
for all of them while the next ones queue. A member's ``with`` returns only once the COMMIT that
holds its changes is done, so nothing is acknowledged before it is durable; a block that raises
is rolled back to its own savepoint and the others keep theirs. If the COMMIT itself fails,
every member of the batch gets the error and none of their changes exist.

One connection for all writers also keeps its page cache: with a connection per thread, each
write made by another connection emptied it, and every transaction read its pages again.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: A batch COMMITs at this many members even with more queued, so no write waits behind an
#: unbounded number of others.
MAX_BATCH = 64


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
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self._acquire, self._release = acquire, release
        self._turn = threading.Lock()  # whose block runs on the connection now
        self._queued = 0  # threads waiting for their turn (read under _turn)
        self._queued_lock = threading.Lock()
        self._done = threading.Condition()
        self._open = False  # a batch's transaction is open (and the process lock held)
        self._batch = 0  # the number of the open (or last) batch
        self._members = 0
        self._committed = 0  # the last batch whose COMMIT has ended
        self._failed: dict[int, BaseException] = {}

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One member's transaction: returns once its batch is durable, raises if it is not."""
        with self._queued_lock:
            self._queued += 1
        self._turn.acquire()
        with self._queued_lock:
            self._queued -= 1
        try:
            batch = self._join()
            try:
                self.db.execute("SAVEPOINT member")
                yield self.db
                self.db.execute("RELEASE member")
                self._members += 1
            except BaseException as error:
                self._undo_member(batch, error)
                raise
            finally:
                if self._open and (not self._queued or self._members >= self.max_batch):
                    self._commit()
        finally:
            self._turn.release()
        self._wait_for(batch)

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
        self._open = False
        self._release()
        with self._done:
            if error is not None:
                self._failed[batch] = error
                for old in [b for b in self._failed if b < batch - 1024]:
                    del self._failed[old]
            self._committed = batch
            self._done.notify_all()

    def _wait_for(self, batch: int) -> None:
        with self._done:
            while self._committed < batch:
                self._done.wait()
            error = self._failed.get(batch)
        if error is not None:
            raise error
