"""``create_app(config)``: wires storage, callbacks, the clock and routes into one Flask app.

There is no module-level app: each call builds a fresh, independent emulator (tests make many).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import expect_continue
from .access_log import AccessLog
from .callbacks import CallbackEngine, CallbackJournal
from .callbacks.signing import load_or_create_private_key, public_key_pem
from .clock import SharedClock
from .config import EmulatorConfig
from .faults import FaultInjector
from .iam.credentials import Credentials
from .iam.tokens import TokenSeal
from .protocol.errors import OssError
from .routes import ROUTES, register_routes
from .routes.responses import render_error
from .services import EXTENSION, Services
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


def create_app(config: EmulatorConfig) -> Flask:
    """Build an emulator serving ``config.data_dir``."""
    data_dir = config.data_dir.resolve()
    clock = SharedClock(data_dir / "clock-offset")  # movable by tests, shared by workers
    storage = Storage(data_dir, region=config.region, clock=clock)
    key = load_or_create_private_key(config.callback_private_key or data_dir / "callback-key.pem")
    journal = CallbackJournal(data_dir / "callbacks.sqlite3")
    delivery = CallbackEngine(
        key,
        journal,
        timeout=config.callback_timeout,
        strict_urls=config.strict_callback_urls,
        clock=clock,
    )
    # On the data dir, so every process serving it shares the rules.
    faults = FaultInjector(
        data_dir / "faults.sqlite3", {route.operation for route in ROUTES.values()}
    )
    # STS tokens are sealed with a key in the data dir: every worker, and a restart, opens them.
    keys = {config.access_key_id: config.access_key_secret}
    credentials = Credentials(keys, TokenSeal.in_dir(data_dir), clock.now)
    services = Services(
        config, storage, delivery, journal, public_key_pem(key), faults, clock, credentials
    )

    # No static folder: Flask's default /static/<path> route would shadow a bucket named
    # "static" (its objects could be written but never read) and skip the signature check.
    app = Flask(__name__, static_folder=None)
    app.url_map.merge_slashes = False  # "a//b" is a key, not a redirect
    app.url_map.strict_slashes = False
    app.extensions[EXTENSION] = services
    register_routes(app)
    app.wsgi_app = AccessLog(app.wsgi_app, clock)  # type: ignore[method-assign]

    @app.after_request
    def _close_if_body_refused(response: Response) -> Response:
        if expect_continue.must_close(request.environ):
            response.headers["Connection"] = "close"
        return response

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
