"""``ossemu``: one entry point; ``main(argv)`` returns the exit code (tests call it directly)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from .. import logs
from ..config import DEV_ACCESS_KEY_ID, EmulatorConfig
from .errors import UserError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["receiver"]:  # the receiver owns its options (stdlib only, no Flask import)
        from .receiver import main as receiver_main

        return receiver_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 0
    except UserError as e:
        print(f"ossemu: error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ossemu",
        description=("An offline Alibaba Cloud OSS emulator built around upload callbacks."),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the OSS emulator",
        description="Run the OSS emulator in the foreground (Ctrl-C stops it).",
    )
    _server_options(serve)
    _serving_options(serve)
    serve.set_defaults(run=_serve)

    dev = sub.add_parser(
        "dev",
        help="run the emulator and a callback receiver together",
        description="The emulator plus a callback receiver: what `make run` starts.",
    )
    _server_options(dev)
    dev.add_argument(
        "--receiver-port", type=int, default=23450, help="callback receiver port (default 23450)"
    )
    dev.add_argument(
        "--bucket",
        action="append",
        metavar="NAME",
        help="bucket to create at start (repeatable; default examplebucket)",
    )
    dev.set_defaults(run=_dev)

    sub.add_parser("receiver", help="run a callback receiver (app-server side); see --help")

    from . import objects  # here, not at the top: only the object commands load the SDK

    objects.register(sub)
    return parser


def _server_options(p: argparse.ArgumentParser) -> None:
    d = EmulatorConfig()
    p.add_argument("--host", default=d.host, help=f"address to bind (default {d.host})")
    p.add_argument(
        "--port", type=int, default=d.port, help=f"port; 0 picks a free one (default {d.port})"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where buckets live (default $OSSEMU_DATA_DIR or {d.data_dir})",
    )
    p.add_argument("--access-key-id", help="default $OSS_ACCESS_KEY_ID, else the development key")
    p.add_argument("--access-key-secret", help="default $OSS_ACCESS_KEY_SECRET")
    p.add_argument(
        "--no-auth", action="store_true", help="accept requests without checking signatures"
    )
    p.add_argument(
        "--domain",
        default=d.domain,
        help=f"virtual-hosted suffix: <bucket>.DOMAIN (default {d.domain})",
    )
    p.add_argument("--region", default=d.region, help=f"region reported (default {d.region})")
    p.add_argument(
        "--callback-timeout",
        type=float,
        default=d.callback_timeout,
        help="seconds per callback URL (default 5, as OSS)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=d.body_timeout,
        metavar="SECONDS",
        help="seconds an upload body may sit idle before 400 RequestTimeout (default 20; 0: never)",
    )
    p.add_argument(
        "--strict-callback-urls",
        action="store_true",
        help="reject private and loopback callback addresses, as real OSS does",
    )
    p.add_argument(
        "--callback-private-key",
        type=Path,
        help="PEM RSA key that signs callbacks (default: generated in the data dir)",
    )
    p.add_argument("--public-url", help="base URL receivers use to reach the emulator's public key")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-format", default="text", choices=["text", "json"])


def _serving_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        default="auto",
        choices=["auto", "gunicorn", "werkzeug"],
        help="WSGI server: gunicorn's gthread worker (auto: when installed, about 2-3x "
        "faster) or Werkzeug's threaded server",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="gunicorn worker processes sharing the data dir (default: one per CPU, at most 4; "
        f"here {default_workers()})",
    )
    p.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")


def default_workers() -> int:
    """One worker per CPU this process may run on, at most 4: a worker is one Python process,
    so one core; past 4 an emulator mostly adds memory."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    if bool(args.access_key_id) != bool(args.access_key_secret):
        raise UserError("--access-key-id and --access-key-secret go together")
    if args.body_timeout < 0:
        raise UserError("--body-timeout must be 0 (never) or more seconds")
    return EmulatorConfig.from_env(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        auth=not args.no_auth,
        domain=args.domain,
        region=args.region,
        callback_timeout=args.callback_timeout,
        body_timeout=args.body_timeout,
        strict_callback_urls=args.strict_callback_urls,
        callback_private_key=args.callback_private_key,
        public_url=args.public_url,
        log_level=args.log_level,
        log_format=args.log_format,
    )


def _start_emulator(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ..server import EmulatorServer

    config = config_from_args(args)
    logs.configure(config.log_level, config.log_format)
    try:
        server = EmulatorServer(config)
    except OSError as e:
        raise UserError(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}") from e
    _announce(config)
    return server


def _announce(config: EmulatorConfig) -> None:
    which = "development default" if config.access_key_id == DEV_ACCESS_KEY_ID else "configured"
    print(
        f"ossemu: access key id {config.access_key_id} ({which}); signatures "
        f"{'checked' if config.auth else 'NOT checked (--no-auth)'}",
        file=sys.stderr,
    )
    if config.host in ("0.0.0.0", "::"):
        print(
            "ossemu: WARNING: listening on all interfaces: the data and the /_ossemu control "
            "API (journal, faults, reset) are reachable from the network",
            file=sys.stderr,
        )


def _serve(args: argparse.Namespace) -> int:
    from ..server import have_gunicorn

    if args.workers < 1 or args.threads < 1:
        raise UserError("--workers and --threads must be at least 1")
    if args.server == "gunicorn" or (args.server == "auto" and have_gunicorn()):
        return _serve_gunicorn(args)
    server = _start_emulator(args)
    print(
        f"ossemu listening on {server.url} (data: {server.config.data_dir.resolve()})", flush=True
    )
    _run_until_interrupted(server.serve_forever, server.stop)
    return 0


def _serve_gunicorn(args: argparse.Namespace) -> int:
    """gunicorn's master in this process; each worker builds its own app after the fork."""
    from ..app import create_app
    from ..server import base_url, have_gunicorn, listen, serve_gunicorn

    if not have_gunicorn():
        raise UserError("--server gunicorn needs gunicorn: pip install gunicorn")
    config = config_from_args(args)
    logs.configure(config.log_level, config.log_format)
    try:
        listener = listen(config.host, config.port)
    except OSError as e:
        raise UserError(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}") from e
    # Built once here so a bad setting fails before any fork (and the callback key exists).
    create_app(config).extensions["ossemu"].close()
    _announce(config)
    line = (
        f"ossemu listening on {base_url(config.host, listener.getsockname()[1])} "
        f"(data: {config.data_dir.resolve()})"
    )
    return serve_gunicorn(
        lambda: create_app(config),
        listener,
        workers=args.workers,
        threads=args.threads,
        on_ready=lambda: print(line, flush=True),
        unload=lambda app: app.extensions["ossemu"].close(),
    )


def _dev(args: argparse.Namespace) -> int:
    from ..devpage import DevPage
    from ..protocol import cors
    from ..receiver import CallbackReceiver, summary
    from .receiver import FAIL_PREFIX

    server = _start_emulator(args).start()
    buckets = args.bucket or ["examplebucket"]
    storage = server.services.storage
    cors_set = []
    for name in buckets:  # the seed's bucket, ready to use
        storage.create_bucket(name)
        if storage.get_bucket_setting(name, "cors") is None:  # never replace the user's rules
            storage.put_bucket_setting(name, "cors", cors.dumps(cors.LOCAL_DEV))
            cors_set.append(name)
    config = server.config
    page = DevPage(server.url, buckets[0], config.access_key_id, config.access_key_secret)
    receiver = CallbackReceiver(
        args.host,
        args.receiver_port,
        fail_prefix=FAIL_PREFIX,  # POST to <receiver>/fail/... answers 500: the 203 case
        on_callback=lambda callback: print(summary(callback), flush=True),
        pages=page,
    )
    try:
        receiver.start()
    except OSError as e:
        server.stop()
        raise UserError(f"cannot start the receiver on port {args.receiver_port}: {e}") from e
    print(
        f"ossemu listening on {server.url} (data: {server.config.data_dir.resolve()})", flush=True
    )
    print(f"callback receiver listening on {receiver.url}", flush=True)
    print(f"  (a callback URL under {FAIL_PREFIX} answers 500: the 203 case)", flush=True)
    page.callback_url = receiver.url
    print(f"direct-upload page on {receiver.url}/ (uploads to {page.bucket})", flush=True)
    for name in cors_set:
        print(f"{name}: CORS allows {' and '.join(cors.LOCAL_DEV.rules[0].origins)}", flush=True)
    print("Ctrl-C stops both.", flush=True)
    stop = threading.Event()
    _run_until_interrupted(lambda: stop.wait(), lambda: (receiver.stop(), server.stop()))
    return 0


def _run_until_interrupted(block, cleanup) -> None:  # type: ignore[no-untyped-def]
    """Run ``block``; SIGINT/SIGTERM end it cleanly and ``cleanup`` runs once."""

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        block()
    except KeyboardInterrupt:
        pass
    finally:
        cleanup()
