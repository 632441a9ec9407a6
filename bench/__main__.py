"""``python -m bench [--quick] [--only WORKLOAD ...]``: run every workload against every peer.

Full settings are the default (what ``make bench`` runs, about half an hour on 2 cores);
``--quick`` is a smoke run of a couple of minutes. Tables print as they complete; a full run
writes ``bench/RESULTS.md``, a partial one ``bench/out/RESULTS-partial.md``.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ossemu.emulator.cli import DEFAULT_THREADS, default_workers

from . import bigio, fixture_cost, inspector, workloads
from .peers import Peer, Spec, start
from .report import Results, machine_line, write
from .targets import check_targets
from .tools import BENCH_DIR, find_tools

WORKLOADS = (
    *("small", "big", "post", "callback", "listing", "resumable", "startup", "serving"),
    *("fixtures", "inspector"),
)
MAIN = Spec(
    "ossemu", "gunicorn", default_workers(), DEFAULT_THREADS
)  # what `ossemu serve` runs here
ONE_WORKER = Spec("ossemu", "gunicorn", 1, DEFAULT_THREADS)  # `ossemu serve --workers 1`
SERVING = (
    Spec("ossemu", "werkzeug"),
    Spec("ossemu", "gunicorn", 1, 16),
    Spec("ossemu", "cheroot", 1, 16),
    Spec("ossemu", "waitress", 1, 16),
    Spec("floor", "werkzeug"),
)
QUICK = workloads.Settings(
    runs=1,
    duration=2.0,
    big_size=32 * 2**20,
    list_sizes=(1000, 5000),
    seed_budget=30.0,
    resumable_size=128 * 2**20,
    callback_requests=100,
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="short smoke run (1 run, 2 s, small)")
    p.add_argument("--only", action="append", choices=WORKLOADS, help="run only these")
    p.add_argument("--runs", type=int, help="repetitions per figure (default 3)")
    p.add_argument("--duration", type=float, help="seconds per 4 KiB load run (default 10)")
    p.add_argument("--no-install", action="store_true", help="do not apt-get or npm install")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="scratch dir")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop every peer
    settings = QUICK if args.quick else workloads.Settings()
    if args.runs:
        settings = replace(settings, runs=args.runs)
    if args.duration:
        settings = replace(settings, duration=args.duration)
    tools = find_tools(install=not args.no_install)
    if tools.wrk is None:
        settings = replace(settings, tool="python")
    selected = set(args.only or WORKLOADS)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "logs").mkdir(exist_ok=True)
    shape = (MAIN.workers, MAIN.threads)
    peers = [MAIN, Spec("floor", "gunicorn", *shape), Spec("floor-fsync", "gunicorn", *shape)]
    if MAIN != ONE_WORKER:
        peers += [ONE_WORKER, Spec("floor", "gunicorn", 1, 8)]
    peers += [Spec("moto")] if tools.moto else []
    peers += [Spec("s3rver")] if tools.s3rver else []
    peers += [Spec("nginx")] if tools.nginx else []

    main_results, serving, uploads, startup = Results(), Results(), Results(), Results()
    post_forms = Results()
    fixtures, fixtures_check = Results(), ""
    inspected = Results()
    main_results.notes.extend(tools.notes)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.out) as tmp:
        scratch = Path(tmp)
        big = None
        if selected & {"big", "post"}:
            big = bigio.make_file(scratch / "big.bin", settings.big_size)
        if "small" in selected:
            _small_interleaved(peers, settings, main_results, tools, args.out)
        for spec in peers:
            _run_peer(spec, selected - {"small"}, settings, main_results, tools, args.out, big)
        if "serving" in selected:
            for spec in SERVING:
                _run_peer(spec, {"small"}, settings, serving, tools, args.out, None)
        if "post" in selected and big is not None:
            _post(settings, post_forms, tools, args.out, big)
        if "resumable" in selected:
            source = bigio.make_file(scratch / "resumable.bin", settings.resumable_size)
            peer = start(MAIN, tools, args.out)
            try:
                workloads.resumable(peer, settings, uploads, source)
            finally:
                peer.stop()
        if "startup" in selected:
            workloads.startup(settings, startup)
        if "fixtures" in selected:
            fixtures_check = fixture_cost.fixture_cost(settings.runs, 50, fixtures)
        if "inspector" in selected:
            print("-- inspector: 100,000 objects, a full journal", flush=True)
            inspector.inspector(args.out, inspected, settings.runs)

    given = sys.argv[1:] if argv is None else argv
    command = "make bench" if not given else "python -m bench " + shlex.join(given)
    sections = _sections(
        main_results, serving, uploads, startup, post_forms, settings, command, started
    )
    if fixtures.figures:
        body = fixtures.table("ossemu") + "\n\n" + fixtures_check
        sections.insert(-1, ("Plugin fixtures: a callback test against an upload-only test", body))
    if inspected.figures:
        body = inspected.table("ossemu") + "\n\n" + inspector.verdict(inspected)
        at = next((i for i, (t, _) in enumerate(sections) if t.startswith("Notes")), len(sections))
        sections.insert(at, ("Inspector reads: 100,000 objects, a journal at its cap", body))
    for title, body in sections:
        print(f"\n## {title}\n\n{body}" if title else body)
    full = not args.quick and not args.only and settings.runs >= 3
    target = BENCH_DIR / "RESULTS.md" if full else args.out / "RESULTS-partial.md"
    analysis = BENCH_DIR / "analysis.md"
    if analysis.exists():
        sections.append(("", analysis.read_text().strip()))
    write(target, sections)
    print(f"\nwritten: {target}")
    return 0


def _small_interleaved(specs, settings, results, tools, out) -> None:  # type: ignore[no-untyped-def]
    """The 4 KiB loads of every peer in rounds: each round loads each peer once, in turn.

    The goals are ratios between peers; measured minutes apart (a peer's every run, then the
    next peer's), they took in whatever the host did meanwhile (another tenant, the writeback a
    256 MiB upload leaves behind). Interleaved, each ratio compares loads seconds apart, the way
    every A/B in ``analysis.md`` is made. The idle peers wait in ``accept``/``epoll``.
    """
    started: list[tuple[Peer, tuple[list[str], list[str]]]] = []
    print(f"-- 4 KiB, interleaved: {', '.join(s.label for s in specs)}", flush=True)
    try:
        for spec in specs:
            peer = None
            try:
                peer = start(spec, tools, out)
                started.append((peer, workloads.small_fill(peer, settings)))
            except Exception as e:  # noqa: BLE001 - one peer's failure must not lose the others
                if peer is not None:
                    peer.stop()
                results.notes.append(f"{spec.label} small failed: {e}")
                print(f"   {spec.label} small failed: {e}", flush=True)
        failed: set[str] = set()
        for _ in range(settings.runs):
            for peer, targets in started:
                if peer.spec.label in failed:
                    continue
                try:
                    workloads.small_round(peer, settings, results, targets)
                except Exception as e:  # noqa: BLE001 - a failed round must not lose the others
                    failed.add(peer.spec.label)
                    results.notes.append(f"{peer.spec.label} small failed: {e}")
                    print(f"   {peer.spec.label} small failed: {e}", flush=True)
    finally:
        for peer, _ in started:
            peer.stop()


def _run_peer(spec, selected, settings, results, tools, out, big) -> None:  # type: ignore[no-untyped-def]
    is_ossemu = spec.kind == "ossemu"
    s3 = spec.kind in ("ossemu", "moto", "s3rver")
    todo = [w for w in ("small", "big", "callback", "listing") if w in selected]
    main_only = spec == MAIN or not is_ossemu  # the 1-worker variant: throughput only
    todo = [w for w in todo if (w != "callback" or spec == MAIN) and (w != "listing" or s3)]
    todo = [w for w in todo if w in ("small", "big") or main_only]
    if not todo:
        return
    print(f"-- {spec.label}: {', '.join(todo)}", flush=True)
    peer = start(spec, tools, out)
    try:
        for w in todo:
            try:
                if w == "small":
                    workloads.small_objects(peer, settings, results)
                elif w == "big" and big is not None:
                    workloads.big_object(peer, settings, results, big)
                elif w == "callback":
                    workloads.callback_overhead(peer, settings, results, out / "logs")
                elif w == "listing":
                    put = f"4 KiB PUT, {settings.connections} conns"
                    workloads.listing(
                        peer, settings, results, results.get(put, "req/s", spec.label)
                    )
            except Exception as e:  # noqa: BLE001 - one failure must not lose the other figures
                results.notes.append(f"{spec.label} {w} failed: {e} (log: {peer.proc.log_path})")
                print(f"   {w} failed: {e}", flush=True)
    finally:
        peer.stop()


def _post(settings, results, tools, out, big) -> None:  # type: ignore[no-untyped-def]
    """PostObject beside PutObject, ossemu only: no peer speaks PostObject."""
    print(f"-- {MAIN.label}: post (PostObject beside PutObject)", flush=True)
    peer = start(MAIN, tools, out)
    try:
        workloads.post_forms(peer, settings, results, big)
    except Exception as e:  # noqa: BLE001 - one failure must not lose the other figures
        results.notes.append(f"{MAIN.label} post failed: {e} (log: {peer.proc.log_path})")
        print(f"   post failed: {e}", flush=True)
    finally:
        peer.stop()


def _sections(main_results, serving, uploads, startup, post_forms, settings, command, started):  # type: ignore[no-untyped-def]
    s = settings
    head = (
        f"# ossemu benchmark\n\nMachine: {machine_line()}  \nCommand: `{command}`  \n"
        f"Medians of {s.runs} run(s); 4 KiB loads: {s.connections} connections for "
        f"{s.duration:g} s with {'wrk' if s.tool == 'wrk' else 'the Python load generator'}; "
        f"ossemu checks a V1 signature on every request and fsyncs every object. "
        f"Wall time {time.monotonic() - started:,.0f} s."
    )
    sections = [("", head)]
    if main_results.figures:
        sections.append(
            ("ossemu and its peers (÷ columns: ossemu / peer)", main_results.table(MAIN.label))
        )
    if serving.figures or main_results.figures:
        merged = Results()
        for src in (main_results, serving):
            for (w, m, p), fig in src.figures.items():
                if w.startswith("4 KiB") and m == "req/s" and ("ossemu" in p or "floor [" in p):
                    for v in fig.samples:
                        merged.add(w, m, p, v)
        if merged.figures:
            sections.append(
                ("Serving choice: 4 KiB req/s by WSGI server", merged.table(MAIN.label))
            )
    if post_forms.figures:
        sections.append(
            (
                f"PostObject beside PutObject, {MAIN.label} (÷ column: PostObject / PutObject)",
                post_forms.table("PostObject"),
            )
        )
    if uploads.figures:
        sections.append(("Resumable upload, same emulator", uploads.table("ossemu client")))
    if startup.figures:
        sections.append(("Fixture start-up", startup.table("ossemu")))
    if main_results.figures or uploads.figures or startup.figures or post_forms.figures:
        sections.append(
            (
                f"Targets: `ossemu serve` (its default here: {MAIN.workers} workers x "
                f"{MAIN.threads} threads)",
                check_targets(main_results, uploads, startup, MAIN.label, s, post_forms),
            )
        )
    if MAIN != ONE_WORKER and main_results.get(
        f"4 KiB GET, {s.connections} conns", "req/s", ONE_WORKER.label
    ):
        sections.append(
            (
                "Targets: `ossemu serve --workers 1`",
                check_targets(main_results, uploads, startup, ONE_WORKER.label, s),
            )
        )
    notes = main_results.notes + serving.notes + uploads.notes + post_forms.notes
    if notes:
        sections.append(("Notes from this run", "\n".join(f"- {n}" for n in notes)))
    return sections


if __name__ == "__main__":
    raise SystemExit(main())
