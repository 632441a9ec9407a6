"""Results: every sample kept, medians and ossemu/peer ratios in Markdown tables, RESULTS.md."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    workload: str
    metric: str
    peer: str
    samples: list[float] = field(default_factory=list)
    higher_is_better: bool = True

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")


class Results:
    """Samples by (workload, metric, peer), in the order they were first recorded."""

    def __init__(self) -> None:
        self.figures: dict[tuple[str, str, str], Figure] = {}
        self.notes: list[str] = []

    def add(
        self, workload: str, metric: str, peer: str, value: float, higher_is_better: bool = True
    ) -> None:
        key = (workload, metric, peer)
        if key not in self.figures:
            self.figures[key] = Figure(workload, metric, peer, [], higher_is_better)
        self.figures[key].samples.append(value)

    def get(self, workload: str, metric: str, peer: str) -> float | None:
        fig = self.figures.get((workload, metric, peer))
        return fig.median if fig and fig.samples else None

    def table(self, main: str) -> str:
        """One row per (workload, metric); a column per peer; then ``main``/peer ratios."""
        rows: dict[tuple[str, str], dict[str, Figure]] = {}
        peers: list[str] = []
        for (workload, metric, peer), fig in self.figures.items():
            rows.setdefault((workload, metric), {})[peer] = fig
            if peer not in peers:
                peers.append(peer)
        others = [p for p in peers if p != main]
        head = ["workload", "metric", *peers, *[f"÷ {p}" for p in others]]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for (workload, metric), figs in rows.items():
            cells = [workload, metric]
            cells += [_fmt(figs[p].median, figs[p].samples) if p in figs else "" for p in peers]
            ours = figs.get(main)
            for p in others:
                theirs = figs.get(p)
                if ours is None or theirs is None or not theirs.median:
                    cells.append("")
                else:
                    cells.append(f"{ours.median / theirs.median:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _fmt(value: float, samples: list[float]) -> str:
    if value != value:  # NaN
        return ""
    text = (
        f"{value:,.0f}"
        if abs(value) >= 100
        else f"{value:.2f}"
        if abs(value) < 10
        else f"{value:.1f}"
    )
    return text + (f" (n={len(samples)})" if len(samples) != 1 and False else "")


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024**2:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def write(path: Path, sections: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n\n".join(f"## {title}\n\n{body}" if title else body for title, body in sections) + "\n"
    )
