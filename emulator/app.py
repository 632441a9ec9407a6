"""``create_app(config)``: wires storage, callbacks, the clock and routes into one Flask app.

There is no module-level app: each call builds a fresh, independent emulator (tests make many).
"""

from __future__ import annotations

from flask import Flask, Response, request

from .access_log import AccessLog
from .callbacks import CallbackEngine, CallbackJournal
from .callbacks.signing import load_or_create_private_key, public_key_pem
from .clock import SharedClock
from .config import EmulatorConfig
from .faults import FaultInjector
from .iam.credentials import Credentials
from .iam.tokens import TokenSeal
from .routes import ROUTES, register_routes
from .routes.responses import render_exception
from .routes.wsgi import OssApi, close_if_body_refused
from .services import EXTENSION, Services
from .storage import Storage


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
    app.wsgi_app = AccessLog(  # type: ignore[method-assign]
        OssApi(app, app.wsgi_app, services.errors.append), clock
    )

    @app.after_request
    def _close_if_body_refused(response: Response) -> Response:
        return close_if_body_refused(response, request.environ)

    @app.errorhandler(Exception)
    def _any_error(error: Exception) -> Response:
        return render_exception(error, request.environ, services.errors.append)

    return app
