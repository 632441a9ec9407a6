"""Issues 8, 13 and 16's targets, checked against this run's medians (ratios within the same
run)."""

from __future__ import annotations

from collections.abc import Callable

from .report import Results


def check_targets(  # type: ignore[no-untyped-def]
    main: Results,
    uploads: Results,
    startup: Results,
    us: str,
    s,
    post_forms: Results | None = None,
) -> str:
    floor = us.replace("ossemu", "floor")
    put = f"4 KiB PUT, {s.connections} conns"
    get = f"4 KiB GET, {s.connections} conns"
    big = f"{s.big_size // 2**20} MiB"
    rows: list[tuple[str, float | None, Callable[[float], bool], str]] = []

    def ratio(workload: str, metric: str, peer: str) -> float | None:
        ours, theirs = main.get(workload, metric, us), main.get(workload, metric, peer)
        return ours / theirs if ours and theirs else None

    # Issue 16: PUT against the floor that fsyncs every file as ossemu does, GET against the
    # plain floor (nothing to sync on a read).
    for name, w, moto_x, vs, share in (
        ("4 KiB PUT", put, 5, us.replace("ossemu", "floor-fsync"), 1.0),
        ("4 KiB GET", get, 7, floor, 0.8),
    ):
        rows.append(
            (
                f"{name} >= {moto_x}x moto",
                ratio(w, "req/s", "moto"),
                lambda v, x=moto_x: v >= x,
                "x",
            )
        )
        rows.append(
            (f"{name} >= 1.5x s3rver", ratio(w, "req/s", "s3rver"), lambda v: v >= 1.5, "x")
        )
        rows.append(
            (
                f"{name} >= {share:.1f}x {vs}",
                ratio(w, "req/s", vs),
                lambda v, x=share: v >= x,
                "x",
            )
        )
    rows.append(
        (f"{big} PUT >= 2x moto", ratio(f"{big} PUT", "MB/s", "moto"), lambda v: v >= 2, "x")
    )
    rows.append(
        (f"{big} GET >= 2x moto", ratio(f"{big} GET", "MB/s", "moto"), lambda v: v >= 2, "x")
    )
    rows.append(
        (
            f"{big} GET >= 80% of nginx",
            ratio(f"{big} GET", "MB/s", "nginx"),
            lambda v: v >= 0.8,
            "x",
        )
    )
    for method in ("PUT", "GET"):
        growth = main.get(f"{big} {method}", "server RSS growth MB", us)
        rows.append(
            (f"{big} {method}: server memory growth < 50 MB", growth, lambda v: v < 50, " MB")
        )
    added = main.get("PUT 4 KiB + callback (sequential)", "added p50 ms", us)
    rows.append(("callback: added p50 <= 2 ms", added, lambda v: v <= 2, " ms"))
    sizes = s.list_sizes
    small = main.get("list 1,000 keys", f"p50 ms, {sizes[0] // 1000}k objects", us)
    large = main.get("list 1,000 keys", f"p50 ms, {sizes[-1] // 1000}k objects", us)
    rows.append(
        (
            f"list: {sizes[-1] // 1000}k-object page <= 2x the {sizes[0] // 1000}k page",
            large / small if small and large else None,
            lambda v: v <= 2,
            "x",
        )
    )
    boot = startup.get("fixture start-up (in-process Werkzeug)", "ms, new data dir", "ossemu")
    rows.append(("fixture start-up < 300 ms (new data dir)", boot, lambda v: v < 300, " ms"))
    if post_forms is not None:  # measured on the default server only
        rows += _post_rows(post_forms, f"4 KiB, {s.connections} conns", big)
    lines = ["| target | this run | met |", "|---|---|---|"]
    for text, value, ok, unit in rows:
        if value is None:
            lines.append(f"| {text} | not measured | - |")
        else:
            lines.append(f"| {text} | {value:.2f}{unit} | {'yes' if ok(value) else 'NO'} |")
    return "\n".join(lines)


def _post_rows(
    forms: Results, small: str, big: str
) -> list[tuple[str, float | None, Callable[[float], bool], str]]:
    """Issue 13: PostObject at >= 80% of PutObject's figures in the same run, and a big form
    upload growing the server's memory by < 50 MB."""

    def share(workload: str, metric: str) -> float | None:
        post, put = (
            forms.get(workload, metric, "PostObject"),
            forms.get(workload, metric, "PutObject"),
        )
        return post / put if post and put else None

    return [
        (
            "4 KiB PostObject >= 80% of PutObject (req/s)",
            share(small, "req/s"),
            lambda v: v >= 0.8,
            "x",
        ),
        (
            f"{big} PostObject >= 80% of PutObject (MB/s)",
            share(big, "MB/s"),
            lambda v: v >= 0.8,
            "x",
        ),
        (
            f"{big} PostObject: server memory growth < 50 MB",
            forms.get(big, "server RSS growth MB", "PostObject"),
            lambda v: v < 50,
            " MB",
        ),
    ]
