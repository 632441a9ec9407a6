"""The 4 KiB figures of ``make bench`` come from interleaved rounds: every peer loaded once per
round, in turn, so the ratios the goals ask for compare loads seconds apart (the bench is never
timed here; only the order and the bookkeeping are checked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import workloads
from bench.peers import Spec
from bench.report import Results
from bench.tools import Tools


def test_each_round_loads_every_peer_once_and_stops_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "logs").mkdir()
    settings = workloads.Settings(runs=2, duration=0.3, connections=8, tool="python")
    specs = [Spec("ossemu", "werkzeug"), Spec("floor-fsync", "werkzeug")]
    order: list[str] = []
    pids: list[int] = []
    round_of = workloads.small_round

    def recording(peer, s, results, targets):  # type: ignore[no-untyped-def]
        order.append(peer.spec.label)
        pids.append(peer.pid)
        round_of(peer, s, results, targets)

    monkeypatch.setattr(workloads, "small_round", recording)
    results = Results()
    bench_main._small_interleaved(specs, settings, results, Tools(), tmp_path)

    labels = [s.label for s in specs]
    assert order == labels * 2  # round by round, not one peer's runs then the next's
    for label in labels:
        for method in ("PUT", "GET"):
            figure = results.figures[(f"4 KiB {method}, 8 conns", "req/s", label)]
            assert len(figure.samples) == 2 and min(figure.samples) > 0
    assert not results.notes
    assert not any(Path(f"/proc/{pid}").exists() for pid in set(pids))  # every peer stopped


def test_a_peer_that_cannot_start_is_noted_and_the_others_still_run(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    settings = workloads.Settings(runs=1, duration=0.3, connections=8, tool="python")
    specs = [Spec("s3rver"), Spec("floor", "werkzeug")]  # no s3rver in these Tools
    results = Results()
    bench_main._small_interleaved(specs, settings, results, Tools(), tmp_path)
    assert [n for n in results.notes if n.startswith("s3rver small failed")]
    assert results.figures[("4 KiB PUT, 8 conns", "req/s", "floor [werkzeug]")].samples
