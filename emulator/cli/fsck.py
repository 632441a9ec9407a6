"""``ossemu fsck``: check a data dir's bytes against its index, or rebuild a lost index.

The work is done in :mod:`emulator.storage.fsck` and :mod:`emulator.storage.rebuild`; this
module only parses options and prints.
Exit status: 0 when nothing is wrong (or the rebuild succeeded), 1 when something is.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..config import EmulatorConfig
from .formatting import HelpFormatter


def register(sub: Any) -> None:
    p = sub.add_parser(
        "fsck",
        help="check stored objects against their MD5/CRC-64; list missing and orphan blobs",
        description="Read every stored body and compare it with the index: missing blob files, "
        "wrong sizes, MD5 or CRC-64 mismatches, orphan blobs. Safe beside a running server.",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"the data dir (default $OSSEMU_DATA_DIR or {EmulatorConfig().data_dir})",
    )
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument(
        "--repair",
        action="store_true",
        help="move orphan blob files to <data-dir>/lost+found/ (nothing is ever deleted)",
    )
    p.add_argument(
        "--rebuild-index",
        action="store_true",
        help="the index is missing, empty or unreadable: move it aside and rebuild it from the "
        "records beside the blob files (a healthy index is left alone)",
    )
    p.add_argument("--region", default=EmulatorConfig().region, help="region of rebuilt buckets")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..storage import fsck, rebuild

    root = args.data_dir or Path(os.environ.get("OSSEMU_DATA_DIR") or EmulatorConfig().data_dir)
    if args.rebuild_index:
        rebuilt = rebuild.rebuild_index(root, region=args.region)
        if args.json:
            print(json.dumps(rebuilt.to_dict()))
        else:
            print(_rebuild_text(rebuilt))
        return 0
    report = fsck.check(root, repair=args.repair)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        for p in report.problems:
            where = f"{p.bucket}/{p.key}" if p.key else p.blob
            if p.upload_id:
                where += f" (upload {p.upload_id} part {p.part_number})"
            print(f"{p.kind:13} {where}: {p.detail}" if where else f"{p.kind:13} {p.detail}")
        print(
            f"checked {report.objects} objects ({report.inline_objects} inline), "
            f"{report.parts} parts, {report.blob_files} blob files, "
            f"{report.bytes_read / 1e6:.1f} MB in {report.seconds:.2f} s: "
            f"{len(report.problems) or 'no'} problem(s)"
        )
    return 0 if report.ok else 1


def _rebuild_text(r: Any) -> str:
    if not r.done:
        return r.detail
    lines = []
    if r.moved_aside:
        lines.append(f"the unreadable index was moved to {r.moved_aside}")
    lines.append(
        f"rebuilt the index: {r.buckets} buckets, {r.objects} objects, {r.uploads} uploads "
        f"({r.parts} parts); {r.blobs_without_record} blob files had no record and stay as "
        f"orphans (`ossemu fsck --repair` moves them to lost+found/)"
    )
    lines.append(f"note: {r.detail}")
    return "\n".join(lines)
