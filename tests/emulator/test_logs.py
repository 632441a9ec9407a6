"""The CLI's logging: the access line written straight to the handler reads exactly as the
formatter would write it, and a logging setup changed afterwards still gets every record."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest

from ossemu.emulator import access_log, logs

ENVIRON = {"REQUEST_METHOD": "PUT", "PATH_INFO": "/bkt/a\nkey", access_log.OPERATION: "PutObject"}


@pytest.fixture
def configured(monkeypatch):
    """``logs.configure`` as the CLI calls it, writing to a buffer; logging restored after."""
    stream = io.StringIO()
    ossemu, root = logging.getLogger("ossemu"), logging.getLogger()
    saved = (ossemu.handlers[:], ossemu.level, ossemu.propagate, root.handlers[:], root.level)
    saved_hooks = (sys.excepthook, sys.unraisablehook, logs._direct, logs._format)

    def configure(fmt: str) -> io.StringIO:
        # Here, not in the fixture's setup: pytest's capture sets sys.stderr again per phase.
        monkeypatch.setattr(sys, "stderr", stream)
        logs.configure("INFO", fmt)
        return stream

    yield configure
    ossemu.handlers[:], ossemu.level, ossemu.propagate = saved[:3]
    root.handlers[:], root.level = saved[3:]
    sys.excepthook, sys.unraisablehook, logs._direct, logs._format = saved_hooks
    logging.captureWarnings(False)


def _formatted(message: str, fields: dict[str, object]) -> str:
    """What ``configure``'s formatter makes of the same line through ``Logger.info``."""
    handler = logging.getLogger("ossemu").handlers[0]
    record = logging.getLogger("ossemu").makeRecord(
        "ossemu", logging.INFO, "", 0, "%s", (message,), None, extra=fields
    )
    return handler.format(record)


def test_text_access_line_is_what_the_formatter_writes(configured):
    stream = configured("text")
    access_log._log_request(ENVIRON, "200 OK", "RID1", 0.0)
    line = stream.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1  # the key's LF is escaped
    stamp, _, rest = line.rstrip("\n").partition(" INFO ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", stamp)
    message = rest.removeprefix("ossemu ")
    assert re.fullmatch(r"PUT /bkt/a\\x0akey 200 RID1 \d+\.\dms PutObject", message)
    expected = _formatted(message, {})
    assert line.rstrip("\n")[len(stamp) :] == expected[len(stamp) :]


def test_json_access_line_has_the_formatters_fields_in_order(configured):
    stream = configured("json")
    access_log._log_request(ENVIRON, "403 Forbidden", "RID2", 0.0)
    entry = json.loads(stream.getvalue())
    fields = {k: entry[k] for k in logs._FIELDS if k in entry}
    expected = json.loads(_formatted(entry["message"], fields))
    assert list(entry) == list(expected)
    assert {k: v for k, v in entry.items() if k != "time"} == {
        k: v for k, v in expected.items() if k != "time"
    }
    assert entry["status"] == 403 and entry["request_id"] == "RID2"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", entry["time"])


def test_a_handler_added_after_configure_gets_the_record_with_its_fields(configured):
    stream = configured("text")
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("ossemu").addHandler(catcher)
    access_log._log_request(ENVIRON, "200 OK", "RID3", 0.0)
    assert [r.operation for r in records] == ["PutObject"]
    assert records[0].request_id == "RID3" and records[0].status == 200
    assert "RID3" in stream.getvalue()  # configure's handler still has it, through logging


def test_a_raised_level_silences_the_access_line(configured):
    stream = configured("text")
    logging.getLogger("ossemu").setLevel(logging.WARNING)
    access_log._log_request(ENVIRON, "200 OK", "RID4", 0.0)
    assert stream.getvalue() == ""
