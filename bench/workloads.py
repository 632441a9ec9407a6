"""What is measured. Each function runs one workload against one started peer, ``runs`` times,
and adds every sample to :class:`~bench.report.Results` (medians are taken when reporting)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import bigio, forms, load
from .peers import KEY_ID, SECRET, Peer
from .procs import HOST, MemorySampler, Proc, free_port
from .report import Results

SMALL = 4096
SMALL_KEYS = 1000


@dataclass(frozen=True)
class Settings:
    runs: int = 3
    duration: float = 10.0
    connections: int = 16
    big_size: int = 256 * 1024 * 1024
    list_sizes: tuple[int, ...] = (1000, 10_000, 100_000)
    seed_budget: float = 150.0  # seconds a peer may take to fill one listing bucket
    resumable_size: int = 1024**3
    callback_requests: int = 400
    tool: str = "wrk"


def small_fill(peer: Peer, s: Settings) -> tuple[list[str], list[str]]:
    """The 1,000 keys of the 4 KiB workload written once; returns their PUT and GET targets."""
    bucket = "small"
    peer.create_bucket(bucket)
    keys = [f"obj-{i:05d}" for i in range(SMALL_KEYS)]
    puts = peer.targets.paths("PUT", bucket, keys)
    filled = load.run(
        peer.port,
        "PUT",
        puts,
        body=b"x" * SMALL,
        connections=s.connections,
        duration=120,
        once=True,
        tool=s.tool,
        headers=peer.targets.headers,
    )
    if filled.errors or filled.requests < len(keys):
        raise RuntimeError(f"{peer.spec.label}: filling failed: {filled}")
    return puts, peer.targets.paths("GET", bucket, keys)


def small_round(
    peer: Peer, s: Settings, results: Results, targets: tuple[list[str], list[str]]
) -> None:
    """One 4 KiB PUT load (overwrites) and one GET load of ``duration`` each."""
    puts, gets = targets
    for method, paths, payload in (("PUT", puts, b"x" * SMALL), ("GET", gets, b"")):
        r = load.run(
            peer.port,
            method,
            paths,
            body=payload,
            connections=s.connections,
            duration=s.duration,
            tool=s.tool,
            headers=peer.targets.headers,
        )
        name = f"4 KiB {method}, {s.connections} conns"
        results.add(name, "req/s", peer.spec.label, r.rps)
        results.add(name, "p50 ms", peer.spec.label, r.p50_ms, higher_is_better=False)
        results.add(name, "p99 ms", peer.spec.label, r.p99_ms, higher_is_better=False)
        if r.errors:
            results.notes.append(f"{peer.spec.label} {method}: {r.errors} errors of {r.requests}")
        time.sleep(0.5)


def small_objects(peer: Peer, s: Settings, results: Results) -> None:
    """4 KiB PUT (overwrites) and GET of 1,000 keys over ``connections`` for ``duration``."""
    targets = small_fill(peer, s)
    for _ in range(s.runs):
        small_round(peer, s, results, targets)


def big_object(peer: Peer, s: Settings, results: Results, source: Path) -> None:
    """One ``big_size`` PUT then GET per run: MB/s and the server's resident memory growth."""
    bucket = "big"
    peer.create_bucket(bucket)
    size = source.stat().st_size
    name = f"{size // 2**20} MiB"
    label = peer.spec.label
    for run in range(s.runs):
        key = f"big-{run}"
        with MemorySampler(peer.pid) as mem:
            seconds = bigio.put_file(
                peer.port, peer.targets.path("PUT", bucket, key), source, peer.targets.headers
            )
        results.add(f"{name} PUT", "MB/s", label, size / seconds / 1e6)
        results.add(f"{name} PUT", "server RSS growth MB", label, mem.growth_mb, False)
        with MemorySampler(peer.pid) as mem:
            target = peer.targets.path("GET", bucket, key)
            seconds = bigio.get_to_nowhere(peer.port, target, size, peer.targets.headers)
        results.add(f"{name} GET", "MB/s", label, size / seconds / 1e6)
        results.add(f"{name} GET", "server RSS growth MB", label, mem.growth_mb, False)


def post_forms(peer: Peer, s: Settings, results: Results, source: Path) -> None:
    """PostObject beside PutObject on one server, by one load tool, in turns (the order flips
    each run, so the shared machine's load weighs on both alike): 4 KiB uploads of 1,000 keys
    over ``connections`` for ``duration``, then one upload of ``source`` each, with the server's
    memory growth. Columns ``PostObject`` and ``PutObject``; the ratio is the table's ÷ column."""
    bucket = "forms"
    peer.create_bucket(bucket)
    form = forms.sign(peer.url, KEY_ID, SECRET, bucket, "post/")
    keys = [f"obj-{i:05d}" for i in range(SMALL_KEYS)]
    data = b"x" * SMALL
    bodies = forms.bodies_with_own_policies(
        form, peer.url, KEY_ID, SECRET, bucket, [f"post/{k}" for k in keys], data
    )
    loads = {
        "PUT": (peer.targets.paths("PUT", bucket, keys), None, peer.targets.headers),
        "POST": (
            [f"/{bucket}"] * len(keys),
            bodies,
            {**peer.targets.headers, "Content-Type": form.content_type},
        ),
    }
    for method, (targets, bodies, headers) in loads.items():  # every upload an overwrite
        filled = load.run(
            peer.port,
            method,
            targets,
            body=data,
            bodies=bodies,
            connections=s.connections,
            duration=120,
            once=True,
            tool=s.tool,
            headers=headers,
        )
        if filled.errors or filled.requests < len(keys):
            raise RuntimeError(f"{peer.spec.label}: filling by {method} failed: {filled}")
    small = f"4 KiB, {s.connections} conns"
    big = f"{source.stat().st_size // 2**20} MiB"
    size = source.stat().st_size
    for run in range(s.runs):
        order = ("PUT", "POST") if run % 2 == 0 else ("POST", "PUT")
        for method in order:
            column = "PutObject" if method == "PUT" else "PostObject"
            targets, bodies, headers = loads[method]
            r = load.run(
                peer.port,
                method,
                targets,
                body=data,
                bodies=bodies,
                connections=s.connections,
                duration=s.duration,
                tool=s.tool,
                headers=headers,
            )
            results.add(small, "req/s", column, r.rps)
            results.add(small, "p50 ms", column, r.p50_ms, higher_is_better=False)
            results.add(small, "p99 ms", column, r.p99_ms, higher_is_better=False)
            if r.errors:
                results.notes.append(f"{column} 4 KiB: {r.errors} errors of {r.requests}")
            time.sleep(0.5)
        for method in order:
            column = "PutObject" if method == "PUT" else "PostObject"
            with MemorySampler(peer.pid) as mem:
                if method == "PUT":
                    target = peer.targets.path("PUT", bucket, f"big-{run}")
                    seconds = bigio.put_file(peer.port, target, source, peer.targets.headers)
                else:
                    seconds = forms.post_file(
                        peer.port, f"/{bucket}", form, f"post/big-{run}", source
                    )
            results.add(big, "MB/s", column, size / seconds / 1e6)
            results.add(big, "server RSS growth MB", column, mem.growth_mb, False)


def callback_overhead(peer: Peer, s: Settings, results: Results, logs: Path) -> None:
    """Sequential 4 KiB PUTs, alternating plain and with a callback to a receiver that answers
    at once: the callback's added latency is the difference of the two distributions."""
    from ossemu.client import Callback, Client

    port = free_port()
    receiver = Proc(
        "receiver",
        [sys.executable, "-m", "bench.receiver", str(port)],
        logs,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        receiver.read_line()
        callback = Callback(url=f"http://{HOST}:{port}/cb", body="object=${object}")
        with Client(peer.url, KEY_ID, SECRET) as c:
            bucket = c.create_bucket("callbacks")  # idempotent for its owner, as on OSS
            data = b"x" * SMALL
            for _ in range(20):  # warm up both paths
                bucket.put_object("warm", data)
                bucket.put_object("warm", data, callback=callback)
            for _ in range(s.runs):
                plain, called = [], []
                for i in range(s.callback_requests):
                    t0 = time.perf_counter()
                    bucket.put_object(f"p{i % 50}", data)
                    t1 = time.perf_counter()
                    bucket.put_object(f"c{i % 50}", data, callback=callback)
                    t2 = time.perf_counter()
                    plain.append((t1 - t0) * 1e3)
                    called.append((t2 - t1) * 1e3)
                p50, p99 = _pct(plain, 50), _pct(plain, 99)
                c50, c99 = _pct(called, 50), _pct(called, 99)
                w = "PUT 4 KiB + callback (sequential)"
                results.add(w, "plain p50 ms", peer.spec.label, p50, False)
                results.add(w, "callback p50 ms", peer.spec.label, c50, False)
                results.add(w, "added p50 ms", peer.spec.label, c50 - p50, False)
                results.add(w, "plain p99 ms", peer.spec.label, p99, False)
                results.add(w, "callback p99 ms", peer.spec.label, c99, False)
                results.add(w, "added p99 ms", peer.spec.label, c99 - p99, False)
    finally:
        receiver.stop()


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def listing(peer: Peer, s: Settings, results: Results, put_rate: float | None) -> None:
    """The first 1,000-key page of ListObjects in buckets of each size in ``list_sizes``."""
    filled = 0
    bucket = "listing"
    peer.create_bucket(bucket)
    for size in s.list_sizes:
        needed = size - filled
        if peer.spec.kind != "ossemu" and put_rate and needed / put_rate > s.seed_budget:
            results.notes.append(
                f"{peer.spec.label}: no {size:,}-object listing (filling it at "
                f"{put_rate:,.0f} PUT/s would take ~{needed / put_rate:,.0f} s)"
            )
            break
        keys = [f"key-{i:07d}" for i in range(filled, size)]
        r = load.run(
            peer.port,
            "PUT",
            peer.targets.paths("PUT", bucket, keys),
            body=b"x",
            connections=s.connections,
            duration=1800,
            once=True,
            tool=s.tool,
            headers=peer.targets.headers,
        )
        if r.errors or r.requests < len(keys):
            raise RuntimeError(f"{peer.spec.label}: filling {size} failed: {r}")
        filled = size
        target = peer.targets.path("GET", bucket, "")
        target = target + ("&" if "?" in target else "?") + "max-keys=1000"
        if not peer.targets.signed:
            target = f"/{bucket}?max-keys=1000"
        for _ in range(s.runs):
            r = load.run(
                peer.port,
                "GET",
                [target],
                connections=1,
                duration=max(2.0, s.duration / 3),
                tool=s.tool,
                headers=peer.targets.headers,
            )
            results.add(
                "list 1,000 keys",
                f"p50 ms, {size // 1000}k objects",
                peer.spec.label,
                r.p50_ms,
                False,
            )
            if r.errors:
                results.notes.append(f"{peer.spec.label} listing: {r.errors} errors")


def resumable(peer: Peer, s: Settings, results: Results, source: Path) -> None:
    """1 GiB resumable upload by each client (own process, same part size and threads)."""
    from .uploader import CLIENTS

    peer.create_bucket("resumable")
    size = source.stat().st_size
    name = f"resumable upload {size / 2**30:g} GiB (8 MiB parts, 4 threads)"
    for _ in range(s.runs):
        for client in CLIENTS:
            argv = [
                sys.executable,
                "-m",
                "bench.uploader",
                client,
                peer.url,
                "resumable",
                f"up-{client}",
                str(source),
            ]
            with MemorySampler(peer.pid) as mem:
                done = subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    cwd=Path(__file__).resolve().parent.parent,
                )
            if done.returncode != 0:
                results.notes.append(f"{client} resumable upload failed: {done.stderr[-400:]}")
                continue
            out = json.loads(done.stdout.strip().splitlines()[-1])
            results.add(name, "MB/s", client, size / out["seconds"] / 1e6)
            results.add(name, "client peak RSS MB", client, out["maxrss_mb"], False)
            results.add(name, "server RSS growth MB", client, mem.growth_mb, False)


def startup(s: Settings, results: Results) -> None:
    """The pytest fixture's in-process server, in a fresh interpreter each run."""
    for _ in range(max(3, s.runs)):
        done = subprocess.run(
            [sys.executable, "-m", "bench.startup_probe"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        out = json.loads(done.stdout.strip().splitlines()[-1])
        w = "fixture start-up (in-process Werkzeug)"
        results.add(w, "ms, new data dir", "ossemu", out["new_dir_s"] * 1e3, False)
        results.add(w, "ms, existing data dir", "ossemu", out["existing_dir_s"] * 1e3, False)
        results.add(w, "ms, imports", "ossemu", out["import_s"] * 1e3, False)
