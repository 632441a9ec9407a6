"""``ossemu put`` and ``ossemu get``: files (and directory trees) to and from OSS.

A file above ``--multipart-threshold`` goes up as a resumable multipart upload: its checkpoint
survives Ctrl-C, and the same command line resumes it, which is what an interrupted ``put``
prints. The progress bar (``progress.TransferBar``) draws on stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ossemu.client import Bucket, Callback, CallbackError, PutObjectResult
from ossemu.client.bucket_base import object_headers
from ossemu.client.download import write_atomically

from .connection import (
    EXIT_CALLBACK_FAILED,
    EXIT_INTERRUPTED,
    OssPath,
    client,
    parse_oss_path,
)
from .errors import UserError
from .progress import TransferBar, parse_size

DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024
_SECRET_FLAG = "--access-key-secret"


class _Resumable(Exception):
    """Ctrl-C during a resumable upload; the command that resumes it is already printed."""


def add_put_options(put: argparse.ArgumentParser) -> None:
    put.add_argument("local", metavar="LOCAL", help="a file, '-' for stdin, or with -r a folder")
    put.add_argument("dest", metavar="oss://BUCKET/KEY", help="a key ending in '/' is a folder")
    put.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="upload the folder LOCAL: each file under it to oss://BUCKET/KEY/<relative path>",
    )
    put.add_argument("--content-type", help="default: guessed from the name")
    put.add_argument(
        "--meta", action="append", default=[], metavar="K=V", help="x-oss-meta-K (repeatable)"
    )
    put.add_argument(
        "--multipart-threshold",
        type=parse_size,
        default=DEFAULT_MULTIPART_THRESHOLD,
        metavar="SIZE",
        help="upload larger files in resumable parts (default 16MiB)",
    )
    put.add_argument("--part-size", type=parse_size, metavar="SIZE", help="default: the SDK's")
    put.add_argument("--threads", type=int, default=4, help="parts in parallel")
    add_progress_options(put)
    cb = put.add_argument_group("upload callback")
    cb.add_argument(
        "--callback-url", action="append", default=[], metavar="URL", help="repeatable, up to 5"
    )
    cb.add_argument(
        "--callback-body",
        metavar="TEMPLATE",
        help="default: bucket, object, etag, size, mimeType and each --callback-var",
    )
    cb.add_argument(
        "--callback-var", action="append", default=[], metavar="NAME=VALUE", help="${x:NAME}"
    )
    cb.add_argument("--callback-type", choices=["form", "json"], default="form", help="body type")
    cb.add_argument("--callback-host", metavar="HOST", help="Host header of the callback")


def add_get_options(get: argparse.ArgumentParser) -> None:
    get.add_argument("src", metavar="oss://BUCKET/KEY", help="the object")
    get.add_argument("local", nargs="?", metavar="LOCAL|-", help="default: the key's file name")
    add_progress_options(get)


def add_progress_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


@contextlib.contextmanager
def _bar(args: argparse.Namespace, label: str, completing: str) -> Iterator[TransferBar | None]:
    show = sys.stderr.isatty() if args.progress is None else args.progress
    if args.quiet or not show:
        yield None
        return
    with TransferBar(sys.stderr, label, completing) as bar:
        yield bar


def put(args: argparse.Namespace) -> int:
    dest, local, stdin = parse_oss_path(args.dest), Path(args.local), args.local == "-"
    if args.recursive:
        return _put_tree(args, local, dest)
    if not stdin and not local.is_file():
        hint = " (a folder: use put -r)" if local.is_dir() else ""
        raise UserError(f"no such file: {args.local}{hint}")
    if not dest.key or dest.key.endswith("/"):
        if stdin:
            raise UserError("uploading stdin needs a full key: oss://bucket/key")
        dest = OssPath(dest.bucket, dest.key + local.name)
    options = _upload_options(args)
    with client(args) as oss:
        bucket = oss.get_bucket(dest.bucket)
        try:
            result = _put_one(args, bucket, None if stdin else local, dest, options)
        except CallbackError as exc:
            return _callback_failed(dest, exc)
        except _Resumable:
            return EXIT_INTERRUPTED
    print(f"{dest}\netag: {result.etag}")
    if result.callback_body is not None:
        print(f"callback answer: {result.callback_body.decode('utf-8', 'replace')}")
    return 0


def _put_tree(args: argparse.Namespace, folder: Path, dest: OssPath) -> int:
    """Every file under ``folder``, keys joined with '/', in a stable (sorted) order."""
    if not folder.is_dir():
        raise UserError(f"put -r needs a folder: {args.local} is not one")
    prefix = dest.key if not dest.key or dest.key.endswith("/") else dest.key + "/"
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    options = _upload_options(args)
    failed = 0
    with client(args) as oss:
        bucket = oss.get_bucket(dest.bucket)
        for path in files:
            target = OssPath(dest.bucket, prefix + path.relative_to(folder).as_posix())
            try:
                result = _put_one(args, bucket, path, target, options)
            except CallbackError as exc:
                failed = _callback_failed(target, exc)
                continue
            except _Resumable:
                return EXIT_INTERRUPTED
            print(f"{target}  etag {result.etag}")
    print(f"uploaded {len(files)} file{'s' * (len(files) != 1)} from {folder} to {dest.bucket}")
    return failed


def _put_one(
    args: argparse.Namespace,
    bucket: Bucket,
    local: Path | None,
    dest: OssPath,
    options: dict[str, Any],
) -> PutObjectResult:
    completing = "completing + callback" if "callback" in options else "completing"
    resumable = local is not None and local.stat().st_size > args.multipart_threshold
    try:
        with _bar(args, f"put {dest.key}", completing) as bar:
            try:
                if local is None:
                    result = bucket.put_object(dest.key, sys.stdin.buffer, progress=bar, **options)
                elif resumable:
                    result = bucket.resumable_upload(
                        dest.key,
                        local,
                        part_size=args.part_size,
                        threads=args.threads,
                        progress=bar,
                        **options,
                    )
                else:
                    result = bucket.put_object(dest.key, file=local, progress=bar, **options)
            except KeyboardInterrupt:
                if bar is not None:
                    bar.finish("stopped")
                raise
            if bar is not None:
                bar.finish()
    except KeyboardInterrupt:
        if not resumable:
            raise
        _print_resume(args)  # after the bar has drawn its last frame
        raise _Resumable from None
    return result


def _print_resume(args: argparse.Namespace) -> None:
    """The command that resumes this upload: the same one (the checkpoint does the rest)."""
    argv = list(getattr(args, "argv", None) or ["put", args.local, args.dest])
    kept: list[str] = []
    dropped = False
    while argv:
        item = argv.pop(0)
        if item == _SECRET_FLAG and argv:
            argv.pop(0)
            dropped = True
        elif item.startswith(_SECRET_FLAG + "="):
            dropped = True
        else:
            kept.append(item)
    print(
        "ossemu: interrupted; the parts sent so far stay on OSS. Resume with:\n"
        f"  {shlex.join(['ossemu', *kept])}",
        file=sys.stderr,
    )
    if dropped:
        print(f"  (adding your {_SECRET_FLAG}, left out here)", file=sys.stderr)


def _callback_failed(dest: OssPath, exc: CallbackError) -> int:
    print(
        f"ossemu: callback failed: {exc.message} ({dest} IS stored, etag {exc.etag}; "
        "`ossemu callbacks` shows what the app server answered)",
        file=sys.stderr,
    )
    return EXIT_CALLBACK_FAILED


def _pairs(items: Iterable[str], flag: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in items]
    for name, sep, _ in pairs:
        if not (name and sep):
            raise UserError(f"{flag} takes NAME=VALUE, got {name + sep!r}")
    return {name: value for name, _, value in pairs}


def _upload_options(args: argparse.Namespace) -> dict[str, Any]:
    headers = object_headers(args.content_type, _pairs(args.meta, "--meta"), None)
    return {"headers": headers, **_callback_options(args)}


def _callback_options(args: argparse.Namespace) -> dict[str, Any]:
    """The SDK's ``callback``/``callback_vars`` from the ``--callback-*`` flags."""
    variables = _pairs(args.callback_var, "--callback-var")
    if not args.callback_url:
        if variables or args.callback_body or args.callback_host:
            raise UserError("--callback-body/-var/-host need --callback-url")
        return {}
    names = ["bucket", "object", "etag", "size", "mimeType"]
    names += [name if name.startswith("x:") else f"x:{name}" for name in variables]
    if args.callback_type == "json":
        body = args.callback_body or "{" + ",".join(f'"{n}":${{{n}}}' for n in names) + "}"
        kind = "application/json"
    else:
        body = args.callback_body or "&".join(f"{n}=${{{n}}}" for n in names)
        kind = "application/x-www-form-urlencoded"
    callback = Callback(args.callback_url, body=body, content_type=kind, host=args.callback_host)
    return {"callback": callback, "callback_vars": variables or None}


def get(args: argparse.Namespace) -> int:
    src = parse_oss_path(args.src, need_key=True)
    name = src.key.rsplit("/", 1)[-1]
    with client(args) as oss:
        bucket = oss.get_bucket(src.bucket)
        if args.local == "-":
            with (
                bucket.get_object(src.key, stream=True) as stream,
                _bar(args, f"get {src.key}", "verifying") as bar,
            ):
                done = 0
                for chunk in stream.iter_chunks():
                    sys.stdout.buffer.write(chunk)
                    done += len(chunk)
                    if bar is not None:
                        bar(done, stream.content_length)
                if bar is not None:
                    bar.finish()
            sys.stdout.buffer.flush()
            return 0
        target = Path(args.local or name)
        target = target / name if target.is_dir() else target
        with _bar(args, f"get {src.key}", "saving") as bar:
            try:
                meta = write_atomically(
                    bucket.get_object(src.key, stream=True), target, progress=bar
                )
            except OSError as exc:
                raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
            if bar is not None:
                bar.finish()
    print(f"{src} -> {target} ({meta.size} bytes)")
    return 0
