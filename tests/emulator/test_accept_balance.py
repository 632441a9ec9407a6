"""``ossemu serve --workers 2`` spreads a client's kept-alive connections evenly over its workers.

The connections are counted where the kernel sees them: each worker's sockets (``/proc/<pid>/fd``)
matched against the established TCP connections on the server's port (``/proc/net/tcp``).
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from ossemu.emulator.accept_balance import ConnectionCounts
from tests.reliability.helpers import ServeProcess, process_tree

HEALTH = "/_ossemu/health"


def workers_of(pid: int) -> list[int]:
    return sorted(p for p in process_tree(pid) if p != pid)


def connections_per_worker(serve: ServeProcess) -> dict[int, int]:
    """How many established connections to the server's port each worker holds."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == serve.port and fields[3] == "01":
            established.add(fields[9])
    counts = {}
    for worker in workers_of(serve.pid):
        inodes = set()
        for fd in os.listdir(f"/proc/{worker}/fd"):
            try:
                link = os.readlink(f"/proc/{worker}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        counts[worker] = len(inodes & established)
    return counts


class Pool:
    """Kept-alive connections used in turn, each reopened when the server closes it."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.conns = [
            http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(size)
        ]
        self.closes = 0

    def round(self) -> list[int]:
        statuses = []
        for conn in self.conns:
            conn.request("GET", HEALTH)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
            if response.getheader("Connection", "").lower() == "close":
                self.closes += 1
                conn.close()  # the next request opens a new connection
        return statuses

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def settle(serve: ServeProcess, pool: Pool, seconds: float = 5.0) -> dict[int, int]:
    """Rounds of requests until the workers' shares are at most one apart (or time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        assert set(pool.round()) == {200}
        counts = connections_per_worker(serve)
        even = max(counts.values()) - min(counts.values()) <= 1
        if sum(counts.values()) == len(pool.conns) and (even or time.monotonic() > deadline):
            return counts
        time.sleep(0.02)


@pytest.fixture
def two_workers(tmp_path):
    """``ossemu serve --workers 2`` once both workers accept (the listening line comes when the
    first one has loaded the app): connections are opened until each worker holds one."""
    serve = ServeProcess(tmp_path / "data", "--workers", "2")
    probes = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            probe = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=10)
            probe.request("GET", HEALTH)
            probe.getresponse().read()
            probes.append(probe)
            counts = connections_per_worker(serve)
            if len(counts) == 2 and min(counts.values()) > 0:
                break
            time.sleep(0.05)
        for probe in probes:
            probe.close()
        while sum(connections_per_worker(serve).values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        yield serve
    finally:
        serve.stop()


def test_a_pool_opened_at_once_is_split_evenly_between_two_workers(two_workers):
    """Each new connection is left to the worker holding fewer, so the pool lands nearly even
    at once (without that, one worker's event loop took 11 or 12 of the 12); what is left is
    evened out by closing and reopening (a worker slow to wake on a loaded machine may leave
    a few more than one apart)."""
    pool = Pool(two_workers.port, 12)
    try:
        assert set(pool.round()) == {200}
        landed = connections_per_worker(two_workers)
        assert pool.closes == 0 and max(landed.values()) - min(landed.values()) <= 4
        counts = settle(two_workers, pool, seconds=15)  # a loaded machine saw 5/7 after 5 s
        assert sorted(counts.values()) == [6, 6]
    finally:
        pool.close()


def test_connections_that_all_landed_on_one_worker_move_to_the_other(two_workers):
    """The second worker is stopped (SIGSTOP) while the pool connects, so the first takes every
    connection after its wait. Nothing is closed while connections keep coming (a client that
    keeps opening them balances by itself); a second after the last one, the first answers one
    request at a time with ``Connection: close`` and the client's reconnection lands on the
    other."""
    first, second = workers_of(two_workers.pid)
    pool = Pool(two_workers.port, 8)
    try:
        os.kill(second, signal.SIGSTOP)
        try:
            assert set(pool.round()) == {200}
            assert connections_per_worker(two_workers) == {first: 8, second: 0}
            assert pool.closes == 0
        finally:
            os.kill(second, signal.SIGCONT)
        # Up to 15 s: a reconnection the stopped-then-resumed worker was too slow to take lands
        # on the first again and restarts its quiet second (make test once saw 5/3 after 5 s).
        counts = settle(two_workers, pool, seconds=15)
        assert counts == {first: 4, second: 4}
        assert 4 <= pool.closes <= 8  # one close per connection that moved, a few to spare
    finally:
        pool.close()


def test_a_dead_workers_slot_is_reused_and_its_count_ignored():
    counts = ConnectionCounts(2)
    child = multiprocessing.get_context("fork").Process(target=counts.claim)
    child.start()
    child.join()
    assert child.exitcode == 0  # claimed slot 0, then died holding it
    counts.set(0, 0)  # a count its worker never took back
    assert not counts.another_holds_fewer(1, 5)  # a dead worker's share does not count
    assert counts.claim() == 0  # the slot goes to the next worker
