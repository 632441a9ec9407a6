"""``ossemu mb|rb|ls|put|get|rm|presign|uploads|callbacks``: OSS from a shell, on ``oss://``.

The commands go through the bundled SDK, so they work against the emulator and real OSS alike;
only ``callbacks`` reads the emulator's own journal. Messages say what actually happened:
``mb`` of a bucket you already own changes nothing and says so, ``rm`` of a missing key says
there was no such object (OSS's DeleteObject answers 204 either way, so ``rm`` asks first).
"""

from __future__ import annotations

import argparse
import sys

from ossemu.client import Bucket, CommonPrefix, ServerError

from . import transfer, uploads
from .connection import (
    Command,
    add_connection_options,
    client,
    endpoint,
    parse_oss_path,
    subcommand,
    when,
)
from .errors import UserError
from .journal import replay_callback, show_callbacks, trigger_callback
from .progress import human_size

EXIT_MISSING = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the client commands to ``ossemu``'s subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_options(common)
    parents = [common]

    def add(name: str, summary: str, run: Command, about: str = "") -> argparse.ArgumentParser:
        return subcommand(sub, name, summary, run, about, parents)

    add("mb", "create a bucket", _mb).add_argument(
        "bucket", metavar="oss://BUCKET", help="the bucket to create"
    )
    rb = add("rb", "delete an empty bucket (empty it with rm -r oss://BUCKET/)", _rb)
    rb.add_argument("bucket", metavar="oss://BUCKET", help="the bucket to delete")
    ls = add("ls", "list buckets (no path, or oss://), or objects under oss://bucket[/prefix]", _ls)
    ls.add_argument("path", nargs="?", metavar="oss://[BUCKET[/PREFIX]]", help="default: buckets")
    ls.add_argument("-r", "--recursive", action="store_true", help="no grouping by '/' into DIRs")
    ls.add_argument("-H", "--human-readable", action="store_true", help="sizes like 1.2 MiB")

    put = add(
        "put",
        "upload a file or (-r) a folder, optionally with an upload callback",
        transfer.put,
        "Upload LOCAL ('-': stdin) to oss://bucket/key; a key ending in '/' gets the file name. "
        "Files above --multipart-threshold go as a resumable multipart upload: after Ctrl-C, "
        "the same command resumes it (`ossemu uploads ls` shows what is left on OSS). With "
        "--callback-url OSS POSTs to your app server once the object is stored, and the app's "
        "answer is printed.",
    )
    transfer.add_put_options(put)
    get = add("get", "download an object to a file, or to stdout with '-'", transfer.get)
    transfer.add_get_options(get)
    rm = add("rm", "delete objects (-r: everything under a prefix)", _rm)
    rm.add_argument("paths", nargs="+", metavar="oss://BUCKET/KEY", help="objects, or -r prefixes")
    rm.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="delete every object under each path (a key also means KEY/...), and abort its "
        "unfinished multipart uploads",
    )
    presign = add("presign", "print a presigned URL", _presign)
    presign.add_argument("path", metavar="oss://BUCKET/KEY", help="the object")
    presign.add_argument(
        "--method", choices=["GET", "PUT", "HEAD", "DELETE"], default="GET", help="HTTP method"
    )
    presign.add_argument("--expires", type=int, default=3600, help="seconds the URL works")
    presign.add_argument("--content-type", help="signed: the request must send exactly this")

    uploads.register(
        sub.add_parser(
            "uploads",
            help="list or abort unfinished multipart uploads",
            description="Unfinished multipart uploads (a Ctrl-C leaves one): ls, abort.",
        ),
        parents,
    )
    callbacks = add(
        "callbacks",
        "show the emulator's callback journal",
        lambda args: show_callbacks(args, endpoint(args)),
        "One block per callback delivery: when, which upload, each URL tried with the app "
        "server's status, the body sent and the app's answer. Emulator only.",
    )
    callbacks.add_argument("--bucket", help="only this bucket's deliveries (default: all)")
    callbacks.add_argument("--key", help="only this object's deliveries (default: all)")
    callbacks.add_argument("--json", action="store_true", help="raw JSON (--follow: one a line)")
    callbacks.add_argument("-f", "--follow", action="store_true", help="print new ones until ^C")
    callbacks.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    _callback_actions(callbacks, parents)


def _callback_actions(
    callbacks: argparse.ArgumentParser, parents: list[argparse.ArgumentParser]
) -> None:
    """``callbacks replay ID`` and ``callbacks trigger oss://BUCKET/KEY``."""
    actions = callbacks.add_subparsers(dest="callbacks_action", metavar="replay|trigger")
    replay = subcommand(
        actions,
        "replay",
        "send a journalled callback again, signed afresh (journalled too)",
        lambda args: replay_callback(args, endpoint(args)),
        "POST the body journal entry ID sent, to its URLs or --url, signed with the "
        "emulator's key now. Exit 3 when the app server refuses it.",
        parents,
    )
    replay.add_argument("id", type=int, help="the journal entry (#N in `ossemu callbacks`)")
    replay.add_argument("--url", help="send it here instead (default: the entry's own URLs)")
    trigger = subcommand(
        actions,
        "trigger",
        "send a callback for a stored object, without uploading it",
        _trigger,
        "Render --body against the object's metadata, as after its upload, and POST it to "
        "--url: tests an app server's verifier. Exit 3 when the app server refuses it.",
        parents,
    )
    trigger.add_argument("path", metavar="oss://BUCKET/KEY", help="the stored object")
    trigger.add_argument("--url", required=True, help="the callback URL (required; default: none)")
    trigger.add_argument(
        "--body",
        default="bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}",
        help="callbackBody template (default: %(default)s)",
    )
    trigger.add_argument(
        "--body-type",
        default="application/x-www-form-urlencoded",
        choices=["application/x-www-form-urlencoded", "application/json"],
        help="callbackBodyType (default: %(default)s)",
    )
    trigger.add_argument("--host", help="callbackHost (default: the URL's host)")
    trigger.add_argument(
        "--var",
        action="append",
        metavar="x:NAME=VALUE",
        help="a custom variable for ${x:NAME} (repeatable; default: none)",
    )


def _trigger(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.path, need_key=True)
    return trigger_callback(args, endpoint(args), path.bucket, path.key)


def _mb(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.bucket)
    if path.key:
        raise UserError(
            f"mb creates buckets, and {args.bucket!r} names a path inside one (key "
            f"{path.key!r}): use oss://{path.bucket}; OSS has no folders to create"
        )
    with client(args) as oss:
        # PutBucket answers 200 for a bucket you already own, so ask first to say which it was.
        if any(info.name == path.bucket for info in oss.list_buckets(prefix=path.bucket)):
            print(f"oss://{path.bucket} already exists and is yours: nothing changed")
            return 0
        oss.create_bucket(path.bucket)
    print(f"created oss://{path.bucket}")
    return 0


def _rb(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.bucket)
    with client(args) as oss:
        try:
            oss.delete_bucket(path.bucket)
        except ServerError as exc:
            if exc.code != "BucketNotEmpty":
                raise
            raise UserError(
                f"oss://{path.bucket} is not empty: `ossemu rm -r oss://{path.bucket}/` deletes "
                "its objects and unfinished uploads"
            ) from None
    print(f"deleted oss://{path.bucket}")
    return 0


def _ls(args: argparse.Namespace) -> int:
    with client(args) as oss:
        if args.path is None or args.path.rstrip("/") == "oss:":
            for info in oss.list_buckets():
                print(f"{when(info.creation_date)}  oss://{info.name}")
            return 0
        path = parse_oss_path(args.path)
        for entry in oss.get_bucket(path.bucket).list_objects(
            path.key, "" if args.recursive else "/"
        ):
            if isinstance(entry, CommonPrefix):
                print(f"{'DIR':>33}  oss://{path.bucket}/{entry.prefix}")
            else:
                size = human_size(entry.size) if args.human_readable else entry.size
                print(f"{when(entry.last_modified)}  {size:>12}  oss://{path.bucket}/{entry.key}")
    return 0


def _rm(args: argparse.Namespace) -> int:
    paths = [parse_oss_path(text, need_key=not args.recursive) for text in args.paths]
    code = 0
    with client(args) as oss:
        for path in paths:
            bucket = oss.get_bucket(path.bucket)
            if args.recursive:
                _rm_tree(bucket, path.key)
            elif bucket.object_exists(path.key):
                bucket.delete_object(path.key)
                print(f"deleted {path}")
            else:
                folder = any(True for _ in bucket.list_objects(path.key + "/", max_keys=1))
                hint = ": it is a folder, use rm -r" if folder else ""
                print(f"ossemu: no such object: {path} (nothing deleted{hint})", file=sys.stderr)
                code = EXIT_MISSING
    return code


def _rm_tree(bucket: Bucket, key: str) -> None:
    """Every object under ``key`` (a key without '/' also means ``key/...``) and its uploads."""
    prefixes = [key] if not key or key.endswith("/") else [key + "/"]
    keys = [key] if prefixes[0] != key and bucket.object_exists(key) else []
    for prefix in prefixes:
        keys += [e.key for e in bucket.list_objects(prefix) if not isinstance(e, CommonPrefix)]
        for upload in list(bucket.list_multipart_uploads(prefix)):
            bucket.abort_multipart_upload(upload.key, upload.upload_id)
            print(f"aborted upload {upload.upload_id} of oss://{bucket.name}/{upload.key}")
    bucket.delete_objects(keys)
    where = f"oss://{bucket.name}/{key}"
    if keys:
        print(f"deleted {len(keys)} object{'s' * (len(keys) != 1)} under {where}")
    else:
        print(f"no objects under {where}: nothing deleted")


def _presign(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.path, need_key=True)
    headers = {"Content-Type": args.content_type} if args.content_type else None
    with client(args) as oss:
        bucket = oss.get_bucket(path.bucket)
        print(bucket.sign_url(args.method, path.key, args.expires, headers=headers))
    return 0
