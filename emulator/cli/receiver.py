"""``ossemu receiver``: the callback receiver from a shell (stdlib only: no Flask, no SDK)."""

from __future__ import annotations

import argparse
import sys
import time

from ..receiver import CallbackReceiver, summary
from .formatting import HelpFormatter

FAIL_PREFIX = "/fail/"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _status(text: str) -> int:
    if not text.isdigit() or not 100 <= int(text) <= 599:
        raise argparse.ArgumentTypeError(f"{text!r} is not an HTTP status (100-599)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """``ossemu receiver``'s options (its own parser: this command imports no Flask, no SDK)."""
    parser = _Parser(
        prog="ossemu receiver",
        description="Receive and verify OSS callbacks.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=23450, help="port to listen on; 0 picks a free one"
    )
    parser.add_argument("--echo", action="store_true", help="answer the received fields as JSON")
    parser.add_argument(
        "--trust-key-url",
        action="append",
        default=[],
        metavar="PREFIX",
        help="also fetch public keys from URLs starting with PREFIX (repeatable; default: "
        "loopback URLs only)",
    )
    parser.add_argument("--status", type=_status, default=200, help="HTTP status to answer")
    parser.add_argument(
        "--fail-prefix",
        default=FAIL_PREFIX,
        help="paths under this prefix answer 500, so an upload gets 203 (empty: never)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print each callback until Ctrl-C; exit 2 on a usage or listen error."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"ossemu receiver: error: {exc}", file=sys.stderr, flush=True)
        return 2
    receiver = CallbackReceiver(
        args.host,
        args.port,
        echo=args.echo,
        also_trust=args.trust_key_url,
        on_callback=lambda callback: print(summary(callback), flush=True),
        fail_prefix=args.fail_prefix or None,
    )
    receiver.respond_with(status=args.status)
    try:
        receiver.start()
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        print(
            f"ossemu receiver: error: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
            flush=True,
        )
        return 2
    print(f"ossemu receiver listening on {receiver.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0
