"""``ossemu``: one entry point; ``main(argv)`` returns the exit code (tests call it directly)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from ossemu import __version__

from .. import logs
from ..config import DEV_ACCESS_KEY_ID, EmulatorConfig
from ..storage.startup import DataDirError
from . import fsck
from .errors import UserError
from .formatting import HelpFormatter

DEFAULT_RECEIVER_PORT = 23450
#: gunicorn threads per worker; ``tests/reliability/measure_availability.py`` measured 64 too few
#: for issue 15's slow callbacks and uploads, 256 enough.
DEFAULT_THREADS = 256


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
    logs.use_format(getattr(args, "log_format", "text"))
    args.argv = list(argv)  # what an interrupted `put` prints back as the command that resumes
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 0
    except (UserError, DataDirError) as e:
        logs.console(f"ossemu: error: {e}", stream=sys.stderr, level="error")
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ossemu",
        description=("An offline Alibaba Cloud OSS emulator built around upload callbacks."),
    )
    parser.add_argument("--version", action="version", version=f"ossemu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the OSS emulator",
        description="Run the OSS emulator in the foreground (Ctrl-C stops it).",
        formatter_class=HelpFormatter,
    )
    _server_options(serve)
    _serving_options(serve)
    serve.set_defaults(run=_serve)

    dev = sub.add_parser(
        "dev",
        help="run the emulator and a callback receiver together",
        description="The emulator plus a callback receiver: what `make run` starts.",
        formatter_class=HelpFormatter,
    )
    _server_options(dev)
    dev.add_argument(
        "--receiver-port",
        type=int,
        help=f"callback receiver port; 0 picks a free one (default {DEFAULT_RECEIVER_PORT}, "
        "or a free one when --port is 0)",
    )
    dev.add_argument(
        "--bucket",
        action="append",
        metavar="NAME",
        help="bucket to create at start (repeatable; default examplebucket)",
    )
    dev.set_defaults(run=_dev)

    sub.add_parser(
        "receiver",
        help="run a callback receiver (app-server side); see --help",
        add_help=False,  # `ossemu receiver --help` is the receiver's own parser
    )

    from . import objects, sts  # here, not at the top: only these commands load the SDK

    objects.register(sub)
    sts.register(sub)
    fsck.register(sub)
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
    p.add_argument(
        "--access-key-secret", help="default $OSS_ACCESS_KEY_SECRET, else the development secret"
    )
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
        "--body-min-rate",
        type=int,
        default=d.body_min_rate,
        metavar="BYTES",
        help="bytes a second an upload body must average, after --body-timeout seconds of grace, "
        f"before 400 RequestTimeout (default {d.body_min_rate}; 0: no minimum)",
    )
    p.add_argument(
        "--head-timeout",
        type=float,
        default=d.head_timeout,
        metavar="SECONDS",
        help="seconds a request head may take to arrive in full before the connection is "
        "dropped (default 10; 0: no limit)",
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
    p.add_argument(
        "--public-url",
        help="base URL receivers use to reach the emulator's public key (default: the bound "
        "address)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host name the control API answers to (repeatable; IP addresses, "
        "localhost and --domain always work)",
    )
    p.add_argument(
        "--restore-seconds",
        type=float,
        default=d.restore_seconds,
        metavar="SECONDS",
        help="seconds a RestoreObject takes on the emulator's clock (default 60)",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the least severe log line shown",
    )
    p.add_argument(
        "--log-format", default="text", choices=["text", "json"], help="json: one object a line"
    )


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
    p.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"threads per gunicorn worker (default {DEFAULT_THREADS}: a thread waiting on a slow "
        "client or callback costs little, and must not leave none for other clients)",
    )
    p.add_argument(
        "--pin-workers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each gunicorn worker on a CPU of its own (default: on, Linux; its threads "
        "hand the GIL over faster on one core)",
    )


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
    if args.body_min_rate < 0 or args.head_timeout < 0:
        raise UserError("--body-min-rate and --head-timeout must be 0 (none) or more")
    if args.restore_seconds < 0:
        raise UserError("--restore-seconds must be 0 or more")
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
        body_min_rate=args.body_min_rate,
        head_timeout=args.head_timeout,
        restore_seconds=args.restore_seconds,
        strict_callback_urls=args.strict_callback_urls,
        callback_private_key=args.callback_private_key,
        public_url=args.public_url,
        allowed_hosts=tuple(args.allow_host),
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
    logs.console(
        f"ossemu: access key id {config.access_key_id} ({which}); signatures "
        f"{'checked' if config.auth else 'NOT checked (--no-auth)'}",
        stream=sys.stderr,
    )
    if config.host in ("0.0.0.0", "::"):
        logs.console(
            "ossemu: WARNING: listening on all interfaces: the data and the /_ossemu control "
            "API (journal, faults, reset) are reachable from the network",
            stream=sys.stderr,
            level="warning",
        )


def _listening(url: str, data_dir: Path) -> None:
    """The one stdout line README promises (a JSON object holding it with --log-format json)."""
    data = str(data_dir.resolve())
    logs.console(f"ossemu listening on {url} (data: {data})", url=url, data_dir=data)


def _serve(args: argparse.Namespace) -> int:
    from ..server import have_gunicorn

    if args.workers < 1 or args.threads < 1:
        raise UserError("--workers and --threads must be at least 1")
    if args.server == "gunicorn" or (args.server == "auto" and have_gunicorn()):
        return _serve_gunicorn(args)
    server = _start_emulator(args)
    _listening(server.url, server.config.data_dir)
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
    url = base_url(config.host, listener.getsockname()[1])
    return serve_gunicorn(
        lambda: create_app(config),
        listener,
        workers=args.workers,
        threads=args.threads,
        on_ready=lambda: _listening(url, config.data_dir),
        unload=lambda app: app.extensions["ossemu"].close(),
        log_level=config.log_level,
        head_timeout=config.head_timeout or float("inf"),
        pin_workers=args.pin_workers,
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
    receiver_port = args.receiver_port
    if receiver_port is None:
        receiver_port = 0 if args.port == 0 else DEFAULT_RECEIVER_PORT
    receiver = CallbackReceiver(
        args.host,
        receiver_port,
        fail_prefix=FAIL_PREFIX,  # POST to <receiver>/fail/... answers 500: the 203 case
        on_callback=lambda callback: logs.console(summary(callback), logger="ossemu.receiver"),
        pages=page,
    )
    try:
        receiver.start()
    except OSError as e:
        server.stop()
        raise UserError(f"cannot start the receiver on port {receiver_port}: {e}") from e
    _listening(server.url, server.config.data_dir)
    logs.console(f"callback receiver listening on {receiver.url}", receiver_url=receiver.url)
    logs.console(f"  (a callback URL under {FAIL_PREFIX} answers 500: the 203 case)")
    page.callback_url = receiver.url
    logs.console(f"direct-upload page on {receiver.url}/ (uploads to {page.bucket})")
    for name in cors_set:
        logs.console(f"{name}: CORS allows {' and '.join(cors.LOCAL_DEV.rules[0].origins)}")
    logs.console("Ctrl-C stops both.")
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
