"""What every response carries, added around the Flask app: the request id, ``Server`` and
``Date`` headers, OSS's status line and one access-log line.

Werkzeug spells the reason phrase of a status given as a number in capitals (``403 FORBIDDEN``,
``werkzeug.sansio.response._clean_status``), and both servers send it as they get it; OSS sends
the registered phrase (``403 Forbidden``), so the wrapper puts that back.

The line names the operation as the route table has it (``UploadPart partNumber=3``), never the
query string: that is where presigned URLs carry their signature and security token.

A WSGI wrapper rather than Flask's before/after-request hooks: it edits the header list once,
without building werkzeug ``Headers`` again, and it also covers responses Flask's hooks skip.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from http.client import responses as _PHRASES
from typing import Any

from . import logs
from .clock import WALL_CLOCK, Clock
from .protocol.http import http_date, new_request_id

log = logging.getLogger("ossemu")

REQUEST_ID = "ossemu.request_id"  # the environ key handlers and error rendering read
OPERATION = "ossemu.operation"  # set by dispatch once the route is known
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_REPLACED = frozenset(("x-oss-request-id", "server"))

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_id_of(environ: dict[str, Any]) -> str:
    """The id given to this request (a fresh one if it bypassed the wrapper)."""
    return environ.get(REQUEST_ID) or environ.setdefault(REQUEST_ID, new_request_id())


class AccessLog:
    """WSGI middleware: ``app.wsgi_app = AccessLog(app.wsgi_app)``."""

    def __init__(self, app: WSGIApp, clock: Clock = WALL_CLOCK) -> None:
        self.app = app
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = environ[REQUEST_ID] = new_request_id()
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept, dated = [], False
            for name, value in headers:
                lowered = name.lower()
                if lowered not in _REPLACED:
                    kept.append((name, value))
                    dated = dated or lowered == "date"
            if not dated:
                kept.append(("Date", http_date(self.clock.now())))
            kept += [("x-oss-request-id", request_id), ("Server", "AliyunOSS")]
            _log_request(environ, status, request_id, started)
            return start_response(status_line(status), kept, exc_info)

        return self.app(environ, start)


def status_line(status: str) -> str:
    """``"403 FORBIDDEN"`` -> ``"403 Forbidden"``: the registered phrase for a known code."""
    code = status[:3]
    phrase = _PHRASES.get(int(code)) if code.isdigit() else None
    return f"{code} {phrase}" if phrase else status


def _log_request(environ: dict[str, Any], status: str, request_id: str, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    elapsed = (time.perf_counter() - started) * 1000
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    # Keys may hold CR, LF and other controls: escaped, so no key can forge a log line.
    path = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", path)
    code = int(status[:3])
    operation = environ.get(OPERATION, "-")
    message = f"{method} {path} {code} {request_id} {elapsed:.1f}ms {operation}"
    fields = {
        "method": method,
        "path": path,
        "operation": operation,
        "status": code,
        "request_id": request_id,
        "duration_ms": round(elapsed, 1),
    }
    if not logs.write_direct(log, message, fields):
        log.info("%s", message, extra=fields)
