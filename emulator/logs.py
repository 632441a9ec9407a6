"""Logging setup for the CLI: one line per request and per callback, as text or JSON.

With ``--log-format json`` every line the process writes is one JSON object: ossemu's own
records; gunicorn's (``server.serve_gunicorn`` hands it ossemu's handler); other libraries' and
Python's warnings (the root logger); and the CLI's console lines (:func:`console`: the start-up
lines, the ``ossemu dev`` receiver's lines, errors).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any, TextIO

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
_format = "text"


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in _FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def use_format(fmt: str) -> None:
    """Choose how :func:`console` writes (``text`` or ``json``) before logging is configured."""
    global _format
    _format = fmt


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr. The CLI calls this; a library user's own logging setup is left alone."""
    # The logging HOWTO's "Optimization" switches: no format here uses the caller's file and
    # line or the thread, and looking them up was a third of an access line's cost. The process
    # id stays: gunicorn's own log lines print it.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False
    use_format(fmt)
    global _direct
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    _direct = _Direct(handler, fmt)
    root = logging.getLogger("ossemu")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # Werkzeug's, gunicorn's start-up failures, Python's warnings: the same handler.
    logging.root.handlers[:] = [handler]
    logging.root.setLevel(logging.WARNING)
    logging.captureWarnings(True)
    if fmt == "json":
        sys.excepthook = _log_uncaught
        threading.excepthook = lambda args: _log_uncaught(
            args.exc_type, args.exc_value, args.exc_traceback
        )
    sys.unraisablehook = _log_unraisable


class _Direct:
    """The handler :func:`configure` installed, written to without a ``LogRecord``.

    An access line through ``Logger.info`` (a record made, handled, formatted) cost about 30 us
    of CPU alone and three times that among busy threads, a tenth of a served 4 KiB GET
    (``bench/analysis.md``, issue 16). The line written is the one the formatter would write.
    """

    def __init__(self, handler: logging.StreamHandler[TextIO], fmt: str) -> None:
        self.handler = handler
        self.json = fmt == "json"
        self._second = -1
        self._stamp = ""

    def write(self, logger: logging.Logger, message: str, fields: dict[str, Any]) -> bool:
        """Write one INFO line; False if logging was set up otherwise since (handlers or
        filters added): the caller logs it the usual way then."""
        handler = self.handler
        if logger.handlers != [handler] or logger.filters or handler.filters:
            return False
        if handler.level > logging.INFO:
            return True
        now = time.time()
        second = int(now)
        if second != self._second:
            clock = time.gmtime(second) if self.json else time.localtime(second)
            pattern = "%Y-%m-%dT%H:%M:%S" if self.json else "%Y-%m-%d %H:%M:%S"
            self._stamp, self._second = time.strftime(pattern, clock), second
        if self.json:
            entry = {"time": self._stamp, "level": "info", "logger": logger.name}
            line = json.dumps({**entry, "message": message, **fields})
        else:
            msecs = int((now - second) * 1000)
            line = f"{self._stamp},{msecs:03d} INFO {logger.name} {message}"
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
        except Exception:  # noqa: BLE001 - as logging would: report it and go on
            return False
        finally:
            handler.release()
        return True


_direct: _Direct | None = None


def write_direct(logger: logging.Logger, message: str, fields: dict[str, Any]) -> bool:
    """One INFO line straight to :func:`configure`'s handler; False when it is not in place
    (a library user's own logging setup), so the caller logs it the usual way."""
    return _direct is not None and _direct.write(logger, message, fields)


def _log_unraisable(unraisable: Any) -> None:
    """Python's "Exception ignored in: ..." (a weakref callback at interpreter exit, a failing
    ``__del__``): one JSON line under ``--log-format json``. A SystemExit or KeyboardInterrupt
    there is the Ctrl-C or SIGTERM that is stopping the process, raised by its signal handler
    while a weakref callback happened to run: the exit the user asked for, not an error, so it
    prints nothing. Written directly: logging may be half torn down then."""
    if issubclass(unraisable.exc_type, (SystemExit, KeyboardInterrupt)):
        return
    if _format != "json":
        sys.__unraisablehook__(unraisable)
        return
    try:
        message = f"{unraisable.err_msg or 'Exception ignored in'}: {unraisable.object!r}"
        exc = (unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)
        record = logging.LogRecord("python", logging.WARNING, "", 0, message, None, exc)
        sys.stderr.write(JsonFormatter().format(record) + "\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - at exit there is nowhere left to report to
        pass


def _log_uncaught(kind: type[BaseException], value: BaseException | None, tb: Any) -> None:
    logging.getLogger("ossemu").critical("uncaught exception", exc_info=(kind, value, tb))


def console(
    message: str,
    *,
    stream: TextIO | None = None,
    level: str = "info",
    logger: str = "ossemu",
    **fields: Any,
) -> None:
    """One line for a person or a script, whatever the log level: ``message`` as it is, or with
    ``--log-format json`` a JSON object holding it (plus ``fields``) in ``message``."""
    if _format == "json":
        entry = {"time": _timestamp(time.time()), "level": level, "logger": logger}
        message = json.dumps({**entry, "message": message, **fields})
    print(message, file=stream or sys.stdout, flush=True)
