"""PostObject's body: a streaming multipart/form-data reader that yields the fields, then the file.

:func:`read_form` reads the parts before ``file`` into memory (each bounded as OSS bounds them)
and hands back the file as an iterator of chunks that parses on as it is consumed, so a form of
any size flows to disk in bounded memory. Draining it also reads the parts after the file: a
second ``file`` or a truncated body raises there, before storage commits anything.

The parsing itself is the ``multipart`` package's push parser (zero-copy for the body's bulk:
5 GB/s here against werkzeug's sans-io decoder's 0.46 GB/s), with OSS's limits and errors on top.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import multipart

from .errors import BadRequest

MAX_NAME = 8 * 1024
MAX_VALUE = 2 * 1024 * 1024
MAX_PRE_FILE = 8 * 1024 * 1024
# A part's header line holds its name (up to MAX_NAME) and filename; beyond this, the name is
# too long whatever else the line holds.
_MAX_HEADER = MAX_NAME + 1024
_MALFORMED_EC = "0006-00000104"


@dataclass
class Form:
    """The fields before ``file`` (names lower-cased, first value wins), then the file."""

    fields: dict[str, str]
    filename: str
    file_content_type: str
    chunks: Iterator[bytes]


def boundary_of(content_type: str) -> str:
    """The boundary of a ``multipart/form-data`` body; anything else is not a form upload."""
    kind, options = multipart.parse_options_header(content_type or "")
    boundary = options.get("boundary", "")
    if kind != "multipart/form-data" or not boundary or len(boundary) > 200 or "\n" in boundary:
        raise BadRequest("RequestIsNotMultiPartContent")
    return boundary


def read_form(content_type: str, body: Iterator[bytes]) -> Form:
    """Read the parts up to ``file``; the file's bytes stay unread in ``Form.chunks``."""
    events = _events(boundary_of(content_type), body)
    fields: dict[str, str] = {}
    pre_file = 0
    for event in events:
        if not isinstance(event, multipart.MultipartSegment):
            continue
        name = event.name or ""
        if len(name.encode()) > MAX_NAME:
            raise BadRequest("FieldItemTooLong", ec="0006-00000110")
        if name.lower() == "file":
            kind = next((v for k, v in event.headerlist if k == "Content-Type"), "")
            return Form(fields, event.filename or "", kind, _file(events))
        value = _value(events)
        pre_file += len(name) + len(value)
        if pre_file > MAX_PRE_FILE:
            raise BadRequest("MaxPOSTPreDataLengthExceededError", ec="0006-00000112")
        fields.setdefault(name.lower(), value)
    raise _malformed("The POST request has no file field.", "0006-00000107")


def _events(
    boundary: str, body: Iterator[bytes]
) -> Iterator[multipart.MultipartSegment | bytes | None]:
    """The parser's events over the whole body, its errors as OSS's."""
    parser = multipart.PushMultipartParser(boundary, max_header_size=_MAX_HEADER)
    try:
        for chunk in body:
            yield from parser.parse(chunk)
        yield from parser.parse(b"")
    except multipart.ParserLimitReached:
        raise BadRequest("FieldItemTooLong", ec="0006-00000110") from None
    except multipart.MultipartError as error:
        ec = "0006-00000109" if "Content-Disposition" in str(error) else _MALFORMED_EC
        raise _malformed(None, ec) from None


def _value(events: Iterator[multipart.MultipartSegment | bytes | None]) -> str:
    value = bytearray()
    for event in events:
        if event is None:
            break
        if isinstance(event, bytes):
            value += event
            if len(value) > MAX_VALUE:
                raise BadRequest(
                    "FieldItemTooLong", "Your value of form field is too long.", ec="0006-00000111"
                )
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("A form field's value is not UTF-8.", _MALFORMED_EC) from None


def _file(events: Iterator[multipart.MultipartSegment | bytes | None]) -> Iterator[bytes]:
    for event in events:
        if event is None:
            break
        if isinstance(event, bytes):
            yield event
    for event in events:  # parts after the file (a "submit" button) are read and ignored
        if isinstance(event, multipart.MultipartSegment) and (event.name or "").lower() == "file":
            raise BadRequest("IncorrectNumberOfFilesInPOSTRequest")


def _malformed(message: str | None, ec: str) -> BadRequest:
    return BadRequest("MalformedPOSTRequest", message, ec=ec)
