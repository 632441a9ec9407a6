"""What every object command shares: ``oss://`` paths, the client, and the exit codes.

Whatever a user can fix is one ``ossemu: error: ...`` line (a ``UserError``), never a
traceback; :func:`guarded` turns the SDK's failures into the documented exit codes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from ossemu.client import (
    Client,
    ClientError,
    InconsistentError,
    RequestError,
    ServerError,
)
from ossemu.client.endpoint import Endpoint, validate_bucket_name

from ..config import DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET
from .errors import UserError
from .formatting import HelpFormatter

DEFAULT_ENDPOINT = "http://127.0.0.1:8090"
EXIT_UNEXPECTED, EXIT_CALLBACK_FAILED, EXIT_INTERRUPTED = 1, 3, 130
EXIT_CODES = """exit codes:
  0    success (also: mb of a bucket that already exists and is yours)
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


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    conn = parser.add_argument_group("connection")
    conn.add_argument("--endpoint", help=f"default $OSS_ENDPOINT or {DEFAULT_ENDPOINT}")
    conn.add_argument("--access-key-id", help="default $OSS_ACCESS_KEY_ID or, locally, the dev key")
    conn.add_argument(
        "--access-key-secret", help="default $OSS_ACCESS_KEY_SECRET (flags show in `ps`)"
    )
    conn.add_argument("--region", help="for V4 signing (default: from the endpoint)")


def subcommand(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    summary: str,
    run: Command,
    about: str = "",
    parents: list[argparse.ArgumentParser] | None = None,
) -> argparse.ArgumentParser:
    """An object command: connection options, the exit codes, errors turned into exit codes."""
    parser = sub.add_parser(
        name,
        help=summary,
        description=about or summary,
        parents=parents or [],
        epilog=EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.set_defaults(run=guarded(run))
    return parser


def guarded(command: Command) -> Command:
    """Turn SDK and transport failures into the documented exit codes."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except KeyboardInterrupt:
            print("ossemu: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (RequestError, requests.RequestException) as exc:
            raise UserError(_unreachable(endpoint(args), exc)) from None
        except (ServerError, InconsistentError) as exc:
            if isinstance(exc, ServerError) and exc.status < 500:
                raise UserError(f"{exc.code}: {exc.message}" if exc.message else exc.code) from None
            print(f"ossemu: error: {exc}", file=sys.stderr)
            return EXIT_UNEXPECTED
        except ClientError as exc:
            raise UserError(str(exc)) from None

    return run


def endpoint(args: argparse.Namespace) -> str:
    """The endpoint's ``scheme://host:port``, from the flag, the environment or the default."""
    parsed = Endpoint.parse(args.endpoint or os.environ.get("OSS_ENDPOINT") or DEFAULT_ENDPOINT)
    return f"{parsed.scheme}://{parsed.netloc}"


def credentials(args: argparse.Namespace, url: str) -> tuple[str, str]:
    """The key pair from the flags or the environment; the development key only for a local
    endpoint (``ossemu sts`` asks this too)."""
    key_id = args.access_key_id or os.environ.get("OSS_ACCESS_KEY_ID")
    secret = args.access_key_secret or os.environ.get("OSS_ACCESS_KEY_SECRET")
    if bool(key_id) != bool(secret):
        raise UserError("the access key id and secret go together: give both or neither")
    if key_id and secret:
        return key_id, secret
    if not Endpoint.parse(url).is_local:
        raise UserError(f"no credentials for {url}: set OSS_ACCESS_KEY_ID/_SECRET")
    return DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET


def client(args: argparse.Namespace) -> Client:
    """A client for the endpoint; the development key only for a local one."""
    url = endpoint(args)
    key_id, secret = credentials(args, url)
    return Client(url, key_id, secret, region=args.region)


def _unreachable(url: str, exc: BaseException) -> str:
    causes: list[BaseException] = []  # exc and all it wraps: __cause__, urllib3's .reason...
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseException) and all(item is not c for c in causes):
            causes.append(item)
            pending += [item.__cause__, item.__context__, getattr(item, "reason", None)]
            pending += [getattr(item, "cause", None), *item.args]
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return f"cannot reach {url}: connection refused; is `ossemu serve` running?"
    if any(isinstance(c, TimeoutError | requests.Timeout) for c in causes):
        return f"cannot reach {url}: timed out"
    return f"cannot reach {url}: {_CONTROL.sub(' ', str(causes[-1]))}"


def when(moment: Any) -> str:
    """A listing's timestamp, to the second."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"
