"""``ossemu uploads ls|abort``: the multipart uploads a Ctrl-C (or a crash) left behind.

An unfinished upload holds its parts on OSS, invisible to ``ls``, and keeps ``rb`` from
deleting its bucket. ``uploads ls`` shows them; ``uploads abort`` discards one (``--upload-id``)
or all under a path (``--all``). To finish one instead, run the ``put`` again: its checkpoint
resumes it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from ossemu.client import Bucket, Client

from .connection import OssPath, client, parse_oss_path, subcommand, when


def register(uploads: argparse.ArgumentParser, common: list[argparse.ArgumentParser]) -> None:
    """``uploads ls`` and ``uploads abort`` under the ``uploads`` command."""
    sub = uploads.add_subparsers(dest="uploads_command", metavar="ls|abort", required=True)
    ls = subcommand(
        sub,
        "ls",
        "list unfinished multipart uploads (all buckets, or under oss://BUCKET[/PREFIX])",
        list_uploads,
        parents=common,
    )
    ls.add_argument(
        "path", nargs="?", metavar="oss://BUCKET[/PREFIX]", help="default: every bucket"
    )
    abort = subcommand(
        sub,
        "abort",
        "abort unfinished multipart uploads, discarding their parts",
        abort_uploads,
        parents=common,
    )
    abort.add_argument(
        "path", metavar="oss://BUCKET/KEY", help="the upload's object (--all: a bucket or prefix)"
    )
    which = abort.add_mutually_exclusive_group(required=True)
    which.add_argument("--upload-id", metavar="ID", help="the upload to abort (see uploads ls)")
    which.add_argument(
        "--all", action="store_true", help="abort every upload under oss://BUCKET[/PREFIX]"
    )


def _uploads(oss: Client, path: OssPath | None) -> Iterator[tuple[Bucket, str, str, object]]:
    names = [path.bucket] if path else [info.name for info in oss.list_buckets()]
    for name in names:
        bucket = oss.get_bucket(name)
        for upload in bucket.list_multipart_uploads(path.key if path else ""):
            yield bucket, upload.key, upload.upload_id, upload.initiated


def list_uploads(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.path) if args.path else None
    with client(args) as oss:
        for bucket, key, upload_id, initiated in _uploads(oss, path):
            print(f"{when(initiated)}  {upload_id}  oss://{bucket.name}/{key}")
    return 0


def abort_uploads(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.path, need_key=not args.all)
    with client(args) as oss:
        if not args.all:
            oss.get_bucket(path.bucket).abort_multipart_upload(path.key, args.upload_id)
            print(f"aborted upload {args.upload_id} of {path}")
            return 0
        count = 0
        for bucket, key, upload_id, _ in list(_uploads(oss, path)):
            bucket.abort_multipart_upload(key, upload_id)
            print(f"aborted upload {upload_id} of oss://{bucket.name}/{key}")
            count += 1
    if not count:
        print(f"no unfinished uploads under {path}")
    return 0
