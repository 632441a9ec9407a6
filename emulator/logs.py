"""Logging setup for the CLI: one line per request and per callback, as text or JSON."""

from __future__ import annotations

import json
import logging
import sys
import time

_FIELDS = (
    "method",
    "path",
    "operation",
    "status",
    "request_id",
    "duration_ms",
    "bucket",
    "key",
    "outcome",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in _FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr. The CLI calls this; a library user's own logging setup is left alone."""
    # The logging HOWTO's "Optimization" switches: no format here uses the caller's file and
    # line or the thread, and looking them up was a third of an access line's cost. The process
    # id stays: gunicorn's own log lines print it.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger("ossemu")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
