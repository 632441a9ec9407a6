"""``python -m bench.serve_profile``: where a served 4 KiB PUT and GET spend their time.

Starts ``ossemu serve`` as ``make bench`` does (its own process, a fresh data dir, V1 presigned
requests replayed by wrk over 16 connections), and records every worker with py-spy while the
load runs: by default only samples of a thread holding the GIL (Python at work), with
``--wall`` every thread's waits too.
Each sample's stack is put in the first category whose frame it contains, so the table says what
share of a request's cost is the HTTP server, Flask, the signature check, the index commit and
so on, and the figure per request is the category's share of the workers' CPU time.

Needs py-spy (``pip install py-spy``) and wrk; run it as root or with ptrace allowed.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from . import load
from .peers import Spec, start
from .procs import tree_pids
from .tools import find_tools
from .workloads import SMALL, SMALL_KEYS

# (category, substrings of a frame): the first match from the innermost frame outwards wins
# for the fine categories; the list is ordered so that a stack lands where its cost is paid.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("index commit (sqlite, fsync)", ("index.py", "inline.py", "catalog.py")),
    ("index read", ("_find ", "head_object", "get_bucket")),
    ("signature check", ("iam/", "auth", "signing")),
    ("logging / access line", ("logging/", "_log_request", "logs.py")),
    ("body read", ("socket_reader", "deadlines", "_read_small", "body")),
    ("routes: parse, dispatch, answer", ("routes/", "protocol/")),
    ("flask / werkzeug", ("flask/", "werkzeug/")),
    ("gunicorn http + threads", ("gunicorn/", "head_first", "selectors", "threading")),
)


def _categorise(stack: str) -> str:
    frames = stack.split(";")
    for name, needles in CATEGORIES:
        for frame in frames:
            if any(n in frame for n in needles):
                return name
    return "other: " + (frames[-1][:60] if frames else "?")


class Usage(NamedTuple):
    """What the workers used so far: CPU seconds in user and kernel mode, and how often their
    threads were switched out (voluntarily: blocked on I/O, a lock or the GIL; or preempted)."""

    user: float
    system: float
    voluntary: int
    involuntary: int

    def __sub__(self, other: object) -> Usage:
        assert isinstance(other, Usage)
        return Usage(*(a - b for a, b in zip(self, other, strict=True)))


def _usage(pids: list[int]) -> Usage:
    """The workers' usage (all their threads), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = voluntary = involuntary = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        user, system = user + int(fields[11]), system + int(fields[12])
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:  # the thread ended meanwhile
                continue
            for line in lines:
                name, _, value = line.partition(":")
                if name == "voluntary_ctxt_switches":
                    voluntary += int(value)
                elif name == "nonvoluntary_ctxt_switches":
                    involuntary += int(value)
    return Usage(user / ticks, system / ticks, voluntary, involuntary)


def _py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def _profile(pids: list[int], seconds: float, idle: bool, out: Path) -> list[subprocess.Popen]:
    procs = []
    for pid in pids:
        argv = [_py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds))]
        argv += ["--rate", "250", "--format", "raw", "--nonblocking", "-o", f"{out}.{pid}"]
        # Holding the GIL is what a Python thread on a CPU does; py-spy's own idle test saw
        # threads waiting in recv() or on a condition as busy here.
        argv.append("--idle" if idle else "--gil")
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def _read(out: Path, pids: list[int]) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for pid in pids:
        path = Path(f"{out}.{pid}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if n.isdigit():  # py-spy may cut the last line short when the process ends
                counts[_categorise(stack)] += int(n)
    return counts


def run(
    workers: int,
    threads: int,
    seconds: float,
    method: str,
    idle: bool,
    raw: Path | None,
    app: str = "ossemu",
) -> None:
    tools = find_tools(install=False)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "logs").mkdir()
        peer = start(Spec(app, "gunicorn", workers, threads), tools, Path(tmp))
        try:
            peer.create_bucket("small")
            keys = [f"obj-{i:05d}" for i in range(SMALL_KEYS)]
            body = b"x" * SMALL
            puts = peer.targets.paths("PUT", "small", keys)
            load.run(peer.port, "PUT", puts, body=body, connections=16, duration=60, once=True)
            targets = puts if method == "PUT" else peer.targets.paths("GET", "small", keys)
            pids = [p for p in tree_pids(peer.pid) if p != peer.pid] or [peer.pid]
            out = Path(tmp) / "spy"
            spies = _profile(pids, seconds + 2, idle, out)
            time.sleep(1)
            before = _usage(pids)
            r = load.run(
                peer.port,
                method,
                targets,
                body=body if method == "PUT" else b"",
                connections=16,
                duration=seconds,
            )
            used = _usage(pids) - before
            for spy in spies:
                spy.wait(timeout=60)
            if raw is not None:
                raw.mkdir(parents=True, exist_ok=True)
                for pid in pids:
                    shutil.copy(f"{out}.{pid}", raw / f"{method}-{workers}x{threads}-{pid}.txt")
            counts = _read(out, pids)
        finally:
            peer.stop()
    total = sum(counts.values()) or 1
    kind = "wall (waits included)" if idle else "holding the GIL"
    print(f"\n{app} {method} {workers}x{threads}: {r.rps:,.0f} req/s, samples {kind}: {total:,}")
    # The workers' CPU time from /proc is the cost; py-spy's samples only split it.
    n = max(r.requests, 1)
    per_request = (used.user + used.system) / n * 1e6
    print(
        f"per request: user {used.user / n * 1e6:.0f} us, system {used.system / n * 1e6:.0f} us;"
        f" switches {used.voluntary / n:.1f} voluntary, {used.involuntary / n:.1f} preempted"
    )
    print(f"{'category':34} {'share':>6} {'us/request':>11}")
    for name, n in counts.most_common():
        print(f"{name:34} {n / total:6.1%} {n / total * per_request:11.0f}")
    print(f"{'total':34} {1:6.0%} {per_request:11.0f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.serve_profile", description=__doc__)
    p.add_argument("--workers", type=int, action="append")
    p.add_argument("--raw", type=Path, help="keep the collapsed stacks here")
    p.add_argument("--threads", type=int, default=256)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--method", choices=["PUT", "GET"], action="append")
    p.add_argument("--app", choices=["ossemu", "floor", "floor-fsync"], default="ossemu")
    p.add_argument("--wall", action="store_true", help="count waiting threads too")
    args = p.parse_args(argv)
    for workers in args.workers or [2, 1]:
        for method in args.method or ["PUT", "GET"]:
            run(workers, args.threads, args.seconds, method, args.wall, args.raw, args.app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
