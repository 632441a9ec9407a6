"""``ossemu mb|rb|ls|put|get|rm|presign|callbacks``: OSS from a shell, on ``oss://bucket/key``.

The commands go through the bundled SDK, so they work against the emulator and real OSS alike;
only ``callbacks`` reads the emulator's own journal. Whatever a user can fix is one
``ossemu: error: ...`` line, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ossemu.client import (
    Callback,
    CallbackError,
    Client,
    ClientError,
    CommonPrefix,
    InconsistentError,
    RequestError,
    ServerError,
)
from ossemu.client.bucket_base import object_headers
from ossemu.client.endpoint import Endpoint, validate_bucket_name

from ..config import DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET
from .errors import UserError
from .journal import show_callbacks
from .progress import ProgressBar, human_size, parse_size

DEFAULT_ENDPOINT = "http://127.0.0.1:8090"
DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024
EXIT_UNEXPECTED, EXIT_CALLBACK_FAILED, EXIT_INTERRUPTED = 1, 3, 130
EXIT_CODES = """exit codes:
  0    success
  1    unexpected failure (server error, corrupted transfer)
  2    user error: bad arguments or path, missing file/bucket/key, refused
       credentials, unreachable endpoint
  3    the upload's callback failed, but the object IS stored
  130  interrupted (Ctrl-C); `callbacks --follow` ends with 0"""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Command = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class OssPath:
    """``oss://bucket/key`` split in two; the key may be empty or a prefix."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"oss://{self.bucket}/{self.key}"


def parse_oss_path(text: str, *, need_key: bool = False) -> OssPath:
    """``oss://bucket[/key]``, or a ``UserError`` saying what is wrong with ``text``."""
    if not text.startswith("oss://"):
        raise UserError(f"{text!r} is not an OSS path: expected oss://bucket/key")
    bucket, _, key = text.removeprefix("oss://").partition("/")
    try:
        validate_bucket_name(bucket)
    except ClientError as exc:
        raise UserError(str(exc)) from None
    if need_key and (not key or key.endswith("/")):
        raise UserError(f"{text!r} names no object: expected oss://{bucket}/key")
    return OssPath(bucket, key)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the client commands to ``ossemu``'s subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    conn = common.add_argument_group("connection")
    conn.add_argument("--endpoint", help=f"default $OSS_ENDPOINT or {DEFAULT_ENDPOINT}")
    conn.add_argument("--access-key-id", help="default $OSS_ACCESS_KEY_ID or, locally, the dev key")
    conn.add_argument(
        "--access-key-secret", help="default $OSS_ACCESS_KEY_SECRET (flags show in `ps`)"
    )
    conn.add_argument("--region", help="for V4 signing (default: from the endpoint)")

    def add(name: str, summary: str, run: Command, about: str = "") -> argparse.ArgumentParser:
        parser = sub.add_parser(
            name,
            help=summary,
            description=about or summary,
            parents=[common],
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(run=_guarded(run))
        return parser

    add("mb", "create a bucket", _mb).add_argument("bucket", metavar="oss://BUCKET")
    add("rb", "delete an empty bucket", _rb).add_argument("bucket", metavar="oss://BUCKET")
    ls = add("ls", "list buckets, or objects under oss://bucket[/prefix]", _ls)
    ls.add_argument("path", nargs="?", metavar="oss://BUCKET[/PREFIX]")
    ls.add_argument("-r", "--recursive", action="store_true", help="no grouping by '/' into DIRs")
    ls.add_argument("-H", "--human-readable", action="store_true", help="sizes like 1.2 MiB")

    put = add(
        "put",
        "upload a file, optionally with an upload callback",
        _put,
        "Upload LOCAL ('-': stdin) to oss://bucket/key; a key ending in '/' gets the file name. "
        "Files above --multipart-threshold go as a resumable multipart upload (run the same "
        "command again to resume). With --callback-url OSS POSTs to your app server once the "
        "object is stored, and the app's answer is printed.",
    )
    put.add_argument("local", metavar="LOCAL")
    put.add_argument("dest", metavar="oss://BUCKET/KEY")
    put.add_argument("--content-type", help="default: guessed from the name")
    put.add_argument(
        "--meta", action="append", default=[], metavar="K=V", help="x-oss-meta-K (repeatable)"
    )
    put.add_argument(
        "--multipart-threshold",
        type=parse_size,
        default=DEFAULT_MULTIPART_THRESHOLD,
        metavar="SIZE",
        help="upload larger files in parts (default 16MiB)",
    )
    put.add_argument("--part-size", type=parse_size, metavar="SIZE", help="default: the SDK's")
    put.add_argument("--threads", type=int, default=4, help="parts in parallel (default 4)")
    put.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
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
    cb.add_argument("--callback-type", choices=["form", "json"], default="form")
    cb.add_argument("--callback-host", metavar="HOST", help="Host header of the callback")

    get = add("get", "download an object to a file, or to stdout with '-'", _get)
    get.add_argument("src", metavar="oss://BUCKET/KEY")
    get.add_argument("local", nargs="?", metavar="LOCAL|-", help="default: the key's file name")
    add("rm", "delete objects", _rm).add_argument("paths", nargs="+", metavar="oss://BUCKET/KEY")
    presign = add("presign", "print a presigned URL", _presign)
    presign.add_argument("path", metavar="oss://BUCKET/KEY")
    presign.add_argument("--method", choices=["GET", "PUT", "HEAD", "DELETE"], default="GET")
    presign.add_argument("--expires", type=int, default=3600, help="seconds (default 3600)")
    presign.add_argument("--content-type", help="signed: the request must send exactly this")

    callbacks = add(
        "callbacks",
        "show the emulator's callback journal",
        lambda args: show_callbacks(args, _endpoint(args)),
        "One block per callback delivery: when, which upload, each URL tried with the app "
        "server's status, the body sent and the app's answer. Emulator only.",
    )
    callbacks.add_argument("--bucket")
    callbacks.add_argument("--key")
    callbacks.add_argument("--json", action="store_true", help="raw JSON (--follow: one a line)")
    callbacks.add_argument("-f", "--follow", action="store_true", help="print new ones until ^C")
    callbacks.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)


def _guarded(command: Command) -> Command:
    """Turn SDK and transport failures into the documented exit codes."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except KeyboardInterrupt:
            print("ossemu: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (RequestError, requests.RequestException) as exc:
            raise UserError(_unreachable(_endpoint(args), exc)) from None
        except (ServerError, InconsistentError) as exc:
            if isinstance(exc, ServerError) and exc.status < 500:
                raise UserError(f"{exc.code}: {exc.message}" if exc.message else exc.code) from None
            print(f"ossemu: error: {exc}", file=sys.stderr)
            return EXIT_UNEXPECTED
        except ClientError as exc:
            raise UserError(str(exc)) from None

    return run


def _endpoint(args: argparse.Namespace) -> str:
    endpoint = Endpoint.parse(args.endpoint or os.environ.get("OSS_ENDPOINT") or DEFAULT_ENDPOINT)
    return f"{endpoint.scheme}://{endpoint.netloc}"


def _client(args: argparse.Namespace) -> Client:
    url = _endpoint(args)
    key_id = args.access_key_id or os.environ.get("OSS_ACCESS_KEY_ID")
    secret = args.access_key_secret or os.environ.get("OSS_ACCESS_KEY_SECRET")
    if bool(key_id) != bool(secret):
        raise UserError("the access key id and secret go together: give both or neither")
    if not key_id:
        if not Endpoint.parse(url).is_local:
            raise UserError(f"no credentials for {url}: set OSS_ACCESS_KEY_ID/_SECRET")
        key_id, secret = DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET
    return Client(url, key_id, secret, region=args.region)


def _unreachable(endpoint: str, exc: BaseException) -> str:
    causes: list[BaseException] = []  # exc and all it wraps: __cause__, urllib3's .reason...
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseException) and all(item is not c for c in causes):
            causes.append(item)
            pending += [item.__cause__, item.__context__, getattr(item, "reason", None)]
            pending += [getattr(item, "cause", None), *item.args]
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return f"cannot reach {endpoint}: connection refused; is `ossemu serve` running?"
    if any(isinstance(c, TimeoutError | requests.Timeout) for c in causes):
        return f"cannot reach {endpoint}: timed out"
    return f"cannot reach {endpoint}: {_CONTROL.sub(' ', str(causes[-1]))}"


def _mb(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.bucket)
    with _client(args) as client:
        client.create_bucket(path.bucket)
    print(f"created oss://{path.bucket}")
    return 0


def _rb(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.bucket)
    with _client(args) as client:
        client.delete_bucket(path.bucket)
    print(f"deleted oss://{path.bucket}")
    return 0


def _ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.path is None:
            for info in client.list_buckets():
                print(f"{_when(info.creation_date)}  oss://{info.name}")
            return 0
        path = parse_oss_path(args.path)
        for entry in client.get_bucket(path.bucket).list_objects(
            path.key, "" if args.recursive else "/"
        ):
            if isinstance(entry, CommonPrefix):
                print(f"{'DIR':>33}  oss://{path.bucket}/{entry.prefix}")
            else:
                size = human_size(entry.size) if args.human_readable else entry.size
                print(f"{_when(entry.last_modified)}  {size:>12}  oss://{path.bucket}/{entry.key}")
    return 0


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _put(args: argparse.Namespace) -> int:
    dest, local, stdin = parse_oss_path(args.dest), Path(args.local), args.local == "-"
    if not stdin and not local.is_file():
        raise UserError(f"no such file: {args.local}")
    if not dest.key or dest.key.endswith("/"):
        if stdin:
            raise UserError("uploading stdin needs a full key: oss://bucket/key")
        dest = OssPath(dest.bucket, dest.key + local.name)
    headers = object_headers(args.content_type, _pairs(args.meta, "--meta"), None)
    options: dict[str, Any] = {"headers": headers, **_callback_options(args)}
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = ProgressBar(sys.stderr) if show else None
    try:
        with _client(args) as client:
            bucket = client.get_bucket(dest.bucket)
            if stdin:
                result = bucket.put_object(dest.key, sys.stdin.buffer, progress=bar, **options)
            elif local.stat().st_size > args.multipart_threshold:
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
    except CallbackError as exc:
        print(
            f"ossemu: callback failed: {exc.message} ({dest} IS stored, etag {exc.etag}; "
            "`ossemu callbacks` shows what the app server answered)",
            file=sys.stderr,
        )
        return EXIT_CALLBACK_FAILED
    finally:
        if bar is not None:
            bar.close()
    print(f"{dest}\netag: {result.etag}")
    if result.callback_body is not None:
        print(f"callback answer: {result.callback_body.decode('utf-8', 'replace')}")
    return 0


def _pairs(items: Iterable[str], flag: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in items]
    for name, sep, _ in pairs:
        if not (name and sep):
            raise UserError(f"{flag} takes NAME=VALUE, got {name + sep!r}")
    return {name: value for name, _, value in pairs}


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


def _get(args: argparse.Namespace) -> int:
    src = parse_oss_path(args.src, need_key=True)
    name = src.key.rsplit("/", 1)[-1]
    with _client(args) as client:
        bucket = client.get_bucket(src.bucket)
        if args.local == "-":
            with bucket.get_object(src.key, stream=True) as stream:
                for chunk in stream.iter_chunks():
                    sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return 0
        target = Path(args.local or name)
        target = target / name if target.is_dir() else target
        try:
            meta = bucket.get_object(src.key, to_file=target)
        except OSError as exc:
            raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"{src} -> {target} ({meta.size} bytes)")
    return 0


def _rm(args: argparse.Namespace) -> int:
    paths = [parse_oss_path(text, need_key=True) for text in args.paths]
    with _client(args) as client:
        for path in paths:
            client.get_bucket(path.bucket).delete_object(path.key)
            print(f"deleted {path}")
    return 0


def _presign(args: argparse.Namespace) -> int:
    path = parse_oss_path(args.path, need_key=True)
    headers = {"Content-Type": args.content_type} if args.content_type else None
    with _client(args) as client:
        bucket = client.get_bucket(path.bucket)
        print(bucket.sign_url(args.method, path.key, args.expires, headers=headers))
    return 0
