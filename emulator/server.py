"""Run an emulator app on a socket: in a thread (fixtures) or in the foreground (``ossemu serve``).

Fixtures use Werkzeug's threaded server in-process: it starts in milliseconds and errors stay in
the test's process. ``ossemu serve`` runs gunicorn's ``gthread`` worker when it is installed:
``make bench`` measured it at 2-3x Werkzeug's requests per second, mostly because it keeps
connections alive and reuses threads (Werkzeug closes every connection and starts a thread per
request). Both stream bodies and handle ``Transfer-Encoding: chunked`` and ``Expect:
100-continue``. Under both, an upload body that goes silent is cut off after
``config.body_timeout`` by a socket timeout, or once it falls behind ``config.body_min_rate``
(``OssRequest.body_chunks``), and a request head must be whole within ``config.head_timeout``,
so slow clients cannot hold threads for ever. Under gunicorn the worker's event loop reads the
heads (``head_first``), so a half-sent head holds no thread at all.
"""

from __future__ import annotations

import ctypes
import io
import logging
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from email.errors import MissingHeaderBodySeparatorDefect
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import expect_continue, gunicorn_patches, refusals
from .app import create_app
from .config import EmulatorConfig
from .services import Services
from .socket_reader import SocketReader

_METHOD = re.compile("[A-Z]+")


class _QuietHandler(WSGIRequestHandler):
    """The app logs one access line per request itself; Werkzeug's own line would repeat it.

    It also reads the connection through :class:`SocketReader`, for bodies that time out.
    """

    def setup(self) -> None:
        super().setup()
        self.rfile.close()
        self._reader = SocketReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        """The head must be whole within ``head_timeout`` (http.server then drops the
        connection quietly): a half-sent head would otherwise hold its thread for ever."""
        limit = getattr(self.server, "ossemu_head_timeout", None)
        self._reader.deadline = time.monotonic() + limit if limit else None
        self._reader.answered = False
        try:
            super().handle_one_request()
        finally:
            self._reader.deadline = None

    def handle_expect_100(self) -> bool:
        """http.server would answer 100 while parsing the head: the app grants it later."""
        return True

    def run_wsgi(self) -> None:
        self._reader.deadline = None  # the head is in: the body has limits of its own
        self._continue = expect_continue.asked(self.headers.get("Expect"))
        if self._continue:  # so would Werkzeug, before the app has looked
            del self.headers["Expect"]
        super().run_wsgi()

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        if getattr(self, "_continue", False):
            expect_continue.defer(environ, lambda: self.wfile.write(expect_continue.INTERIM))
        return environ

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        """Without http.server's own Server/Date headers: the app sends OSS's."""
        self._said_connection = False
        if code >= 200:  # the final answer: the body is now either read or left for the drain
            self._reader.answered = True
        self.send_response_only(code, message)

    def parse_request(self) -> bool:
        """http.server's parse, less what it lets through and gunicorn (``ossemu serve``)
        refuses: a method not in capitals, and what RFC 9112 says to refuse: a header line
        without a colon or with space before it (http.server dropped it and every header after
        it, an ``Authorization`` or ``x-oss-callback`` included), a folded header, and two
        different Content-Lengths (it took the last, so it read another body than gunicorn)."""
        if not super().parse_request():
            return False
        lengths = set(self.headers.get_all("Content-Length") or ())
        if (
            not _METHOD.fullmatch(self.command)
            or any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in self.headers.defects)
            or any("\r" in value or "\n" in value for value in self.headers.values())
            or len(lengths) > 1
        ):
            self.send_error(400)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request http.server could not parse, answered as OSS does (``refusals``)."""
        self.close_connection = True
        self._reader.answered = True
        self.wfile.write(refusals.refusal(code, self.server.server_address[0]))

    def send_header(self, keyword: str, value: str) -> None:
        """One Connection header: Werkzeug adds its ``close`` after an app's own."""
        if keyword.lower() == "connection":
            if getattr(self, "_said_connection", False):
                return
            self._said_connection = True
        super().send_header(keyword, value)


class EmulatorServer:
    """One emulator listening on ``config.host:config.port`` (port 0 picks a free one)."""

    def __init__(self, config: EmulatorConfig, app: Flask | None = None) -> None:
        listener = listen(config.host, config.port)
        try:
            self.app = app or create_app(config)
            self.config = config
            # Werkzeug takes over a copy of our socket: binding here raises a plain OSError
            # instead of Werkzeug's print-and-exit on a busy port.
            self._server: BaseWSGIServer = make_server(
                config.host,
                config.port,
                self.app,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()
        self._server.daemon_threads = True
        self._server.ossemu_head_timeout = config.head_timeout  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return base_url(self.config.host, self.port)

    @property
    def services(self) -> Services:
        return self.app.extensions["ossemu"]

    @property
    def access_key_id(self) -> str:
        return self.config.access_key_id

    @property
    def access_key_secret(self) -> str:
        return self.config.access_key_secret

    def url_for(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    def callbacks(self, bucket: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        """The callback journal (what each app server was sent and answered), oldest first."""
        return self.services.journal.entries(bucket=bucket, key=key)

    def add_fault(self, **fields: Any) -> Any:
        """Make the next matching requests fail; see :class:`emulator.faults.Fault`."""
        return self.services.faults.add(**fields)

    def clear_faults(self) -> None:
        """Remove every fault rule (the plugin does this after each test)."""
        self.services.faults.clear()

    def drop_bucket(self, name: str) -> None:
        """Delete a bucket with everything in it (objects, uploads), as a test's cleanup."""
        self.services.storage.drop_bucket(name)

    def take_errors(self) -> list[BaseException]:
        """The unexpected exceptions (500s) since the last call, so a fixture can re-raise them."""
        return self.services.take_errors()

    def reset(self) -> None:
        """Wipe buckets, objects, uploads, the journal and the faults; set the clock back."""
        self.services.reset()

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's "now" forward (every worker on the data dir sees it), so that
        presigned URLs, POST policies and temporary credentials expire without waiting.
        Returns the clock's offset from wall time; the plugin sets it back after each test."""
        return self.services.clock.advance(seconds)

    def reset_clock(self) -> None:
        """Put the emulator's clock back to wall time."""
        self.services.clock.set_offset(0)

    def now(self) -> float:
        """The emulator's "now", in epoch seconds."""
        return self.services.clock.now()

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns at once, already accepting connections.

        A started server is left as it is, so ``with EmulatorServer(config).start() as s:``
        serves once: a second serving loop survived ``stop()`` (which ends one loop), and
        ``stop()`` then waited out its 5 s join for nothing.
        """
        if self._thread is not None and self._thread.is_alive():
            return self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ossemu-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self.services.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, so a busy port is a plain OSError before any server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def have_gunicorn() -> bool:
    """gunicorn needs fork and fcntl (not on Windows) and is an optional dependency."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def serve_gunicorn(
    load: Callable[[], Any],
    listener: socket.socket,
    *,
    workers: int = 1,
    threads: int = 256,
    on_ready: Callable[[], None] | None = None,
    unload: Callable[[Any], None] | None = None,
    log_level: str = "INFO",
    head_timeout: float = 10.0,
    pin_workers: bool = True,
) -> int:
    """Serve ``load()``'s WSGI app on ``listener`` under gunicorn (gthread) until a signal.

    ``load`` runs in each worker after the fork, so no SQLite connection or file lock crosses a
    fork. ``on_ready`` runs once every worker has loaded the app: from then on connections are
    answered, and no worker's start-up (its sweep of unreferenced blobs among it) is still to
    touch the data dir, so a tool may work on it from the line on. SIGINT and SIGTERM stop it;
    returns the exit status (0). ``pin_workers``: each worker on a CPU of its own
    (:mod:`emulator.cpu_pinning`).

    gunicorn's own lines go through the ``ossemu`` logger's handler (so ``--log-format json``
    covers them); its start-up and shutdown chatter ("Booting worker") shows at ``DEBUG`` only.
    """
    import gunicorn.http.wsgi
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from .accept_balance import ConnectionCounts
    from .cpu_pinning import CpuPlan, allowed_cpus, pin
    from .head_first import worker_class

    class _ThroughOssemu(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            self.error_log.handlers[:] = logging.getLogger("ossemu").handlers

    # gunicorn writes its own Server header and drops the app's; OSS clients see "AliyunOSS".
    gunicorn.http.wsgi.SERVER = "AliyunOSS"
    gunicorn_patches.apply()
    started = multiprocessing.get_context("fork").Value("i", 0)
    master = os.getpid()
    cpus = CpuPlan(allowed_cpus() if pin_workers else [], start=master)

    def pre_fork(server: Any, worker: Any) -> None:
        live = server.WORKERS.values()
        worker.ossemu_cpu = cpus.choose(getattr(w, "ossemu_cpu", None) for w in live)

    def post_fork(server: Any, worker: Any) -> None:
        _die_with_parent(master)
        pin(worker.ossemu_cpu)

    def post_worker_init(worker: Any) -> None:
        with started.get_lock():
            started.value += 1  # a worker started again later counts past ``workers``
            if started.value == workers and on_ready is not None:
                on_ready()

    def worker_exit(server: Any, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)
        if unload is not None and app is not None:
            unload(app)

    options = {
        "bind": [f"fd://{listener.detach()}"],  # gunicorn owns (and closes) the socket now
        "worker_class": worker_class(head_timeout, ConnectionCounts(2 * workers)),
        "workers": workers,
        "threads": threads,
        "keepalive": 5,
        # gunicorn's most (its default is 4,094): a presigned V4 download of a long CJK key with
        # an STS token and a response-content-disposition passes 4 KiB, and OSS serves it.
        "limit_request_line": 8190,
        "graceful_timeout": 5,
        "loglevel": {"DEBUG": "debug", "ERROR": "error"}.get(log_level.upper(), "warning"),
        "logger_class": _ThroughOssemu,
        "accesslog": None,  # the app logs one line per request itself
        "control_socket_disable": True,
        "pre_fork": pre_fork,
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
    }

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                if name in self.cfg.settings:
                    self.cfg.set(name, value)

        def load(self) -> Any:
            return load()

    try:
        _Server().run()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def _die_with_parent(parent: int) -> None:
    """A SIGKILLed ``ossemu serve`` takes its workers with it, as one process would (Linux).

    Without this a worker outlives a crash of its master and goes on answering and writing.
    """
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the master died before the line above took effect
        os._exit(1)
