"""``create_app(config)``: wires storage, callbacks and routes into one Flask app.

There is no module-level app: each call builds a fresh, independent emulator (tests make many).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .access import AccessLog, request_id_of
from .callbacks import CallbackEngine, CallbackJournal
from .callbacks.signing import load_or_create_private_key, public_key_pem
from .config import EmulatorConfig
from .faults import FaultInjector
from .protocol.errors import OssError
from .routes import ROUTES, register_routes
from .storage import Storage

log = logging.getLogger("ossemu")

# Werkzeug's own errors, as the OSS codes a client would get from real OSS.
_HTTP_TO_OSS = {
    400: "InvalidArgument",
    404: "NoSuchKey",
    405: "MethodNotAllowed",
    411: "MissingContentLength",
    413: "EntityTooLarge",
    416: "InvalidRange",
}


@dataclass
class Services:
    """What route handlers reach through ``current_app.extensions["ossemu"]``."""

    config: EmulatorConfig
    storage: Storage
    callbacks: CallbackEngine
    journal: CallbackJournal
    public_key_pem: bytes
    faults: FaultInjector
    #: Unexpected exceptions (500s) since the last ``take_errors()``: fixtures re-raise them.
    errors: list[BaseException] = field(default_factory=list)

    def reset(self) -> None:
        """Wipe buckets, objects, uploads, the journal and the faults."""
        self.storage.reset()
        self.journal.clear()
        self.faults.clear()

    def take_errors(self) -> list[BaseException]:
        errors, self.errors[:] = list(self.errors), []
        return errors

    def close(self) -> None:
        self.storage.close()
        self.journal.close()
        self.faults.close()


def create_app(config: EmulatorConfig) -> Flask:
    """Build an emulator serving ``config.data_dir``."""
    data_dir = config.data_dir.resolve()
    storage = Storage(data_dir, region=config.region)
    key = load_or_create_private_key(config.callback_private_key or data_dir / "callback-key.pem")
    journal = CallbackJournal(data_dir / "callbacks.sqlite3")
    engine = CallbackEngine(
        key, journal, timeout=config.callback_timeout, strict_urls=config.strict_callback_urls
    )
    # On the data dir, so every process serving it shares the rules.
    faults = FaultInjector(data_dir / "faults.sqlite3", {name for name, _ in ROUTES.values()})
    services = Services(config, storage, engine, journal, public_key_pem(key), faults)

    # No static folder: Flask's default /static/<path> route would shadow a bucket named
    # "static" (its objects could be written but never read) and skip the signature check.
    app = Flask(__name__, static_folder=None)
    app.url_map.merge_slashes = False  # "a//b" is a key, not a redirect
    app.url_map.strict_slashes = False
    app.extensions["ossemu"] = services
    register_routes(app)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]

    @app.errorhandler(OssError)
    def _oss_error(error: OssError) -> Response:
        return render_error(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        code = _HTTP_TO_OSS.get(error.code or 400, "InvalidArgument")
        return render_error(OssError(code))

    @app.errorhandler(ConnectionAbortedError)
    def _dropped(error: ConnectionAbortedError) -> Response:
        return Response(status=500)  # the socket is already closed: nobody reads this

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        services.errors.append(error)
        return render_error(OssError("InternalError"))

    return app


def render_error(error: OssError) -> Response:
    """The one place an error becomes XML (or, for HEAD, the ``x-oss-err`` header)."""
    request_id = request_id_of(request.environ)
    host_id = request.host.split(":")[0] if request else "localhost"
    headers = error.headers(request_id, host_id)
    body = b"" if request.method == "HEAD" else error.to_xml(request_id, host_id)
    response = Response(body, status=error.status, headers=headers, content_type="application/xml")
    if request.method == "HEAD":
        response.headers["Content-Length"] = "0"
    return response
