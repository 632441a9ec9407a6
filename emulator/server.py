"""Run an emulator app on a socket: in the foreground (CLI) or in a thread (fixtures).

The server is Werkzeug's threaded WSGI server: it streams request and response bodies, handles
``Transfer-Encoding: chunked`` and ``Expect: 100-continue``, and starts in milliseconds. For
several processes on one data dir run the app under gunicorn (``emulator.wsgi:app``).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Services, create_app
from .config import EmulatorConfig


class _QuietHandler(WSGIRequestHandler):
    """The app logs one access line per request itself; Werkzeug's own line would repeat it."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        """Without http.server's own Server/Date headers: the app sends OSS's."""
        self.send_response_only(code, message)


class EmulatorServer:
    """One emulator listening on ``config.host:config.port`` (port 0 picks a free one)."""

    def __init__(self, config: EmulatorConfig, app: Flask | None = None) -> None:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        listener = socket.create_server((config.host, config.port), family=family, backlog=128)
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
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

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

    def reset(self) -> None:
        """Wipe buckets, objects, uploads, the journal and the faults."""
        svc = self.services
        svc.storage.reset()
        svc.journal.clear()
        svc.faults.clear()

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns at once, already accepting connections."""
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
