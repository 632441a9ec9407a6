"""What every response carries, added around the Flask app: the request id, ``Server`` and
``Date`` headers, and one access-log line.

A WSGI wrapper rather than Flask's before/after-request hooks: it edits the header list once,
without building werkzeug ``Headers`` again, and it also covers responses Flask's hooks skip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .protocol.http import http_date, new_request_id

log = logging.getLogger("ossemu")

REQUEST_ID = "ossemu.request_id"  # the environ key handlers and error rendering read
_REPLACED = frozenset(("x-oss-request-id", "server"))

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_id_of(environ: dict[str, Any]) -> str:
    """The id given to this request (a fresh one if it bypassed the wrapper)."""
    return environ.get(REQUEST_ID) or environ.setdefault(REQUEST_ID, new_request_id())


class AccessLog:
    """WSGI middleware: ``app.wsgi_app = AccessLog(app.wsgi_app)``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = environ[REQUEST_ID] = new_request_id()
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() not in _REPLACED]
            if not any(k.lower() == "date" for k, _ in kept):
                kept.append(("Date", http_date(time.time())))
            kept += [("x-oss-request-id", request_id), ("Server", "AliyunOSS")]
            _log_request(environ, status, request_id, started)
            return start_response(status, kept, exc_info)

        return self.app(environ, start)


def _log_request(environ: dict[str, Any], status: str, request_id: str, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    elapsed = (time.perf_counter() - started) * 1000
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    code = int(status[:3])
    log.info(
        "%s %s %s %s %.1fms",
        method,
        path,
        code,
        request_id,
        elapsed,
        extra={
            "method": method,
            "path": path,
            "status": code,
            "request_id": request_id,
            "duration_ms": round(elapsed, 1),
        },
    )
