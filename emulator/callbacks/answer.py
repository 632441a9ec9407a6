"""The app server's answer to a callback: read within a byte budget, judged by OSS's rules.

OSS reads at most 3 MB of the answer however it is framed (``Content-Length`` beside
``Transfer-Encoding: chunked`` included), and relays it only if it is a 200 with a valid
``Content-Length`` and a JSON body; each failure carries OSS's exact ``CallbackFailed`` message
(docs/oss-protocol.md 5.1, 5.3).
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

from .journal import body_field

MAX_RESPONSE_BYTES = 3 * 1024 * 1024  # CB21 and the current docs; older text says 1 MB
MAX_HEADER_VALUE = 8 * 1024  # journalled per header of the answer
ANSWER_BUDGET = MAX_RESPONSE_BYTES + 64 * 1024  # the most read of an answer, head included
NOT_JSON = "Response body is not valid json format."
MISSING_LENGTH = "Error Status : 400.User server missing content-length."
INVALID_LENGTH = "Error Status : 400.User server return invalid conent-length value."  # sic
TOO_LONG = "Error Status : 400.User server return too long content-length value."


class Failed(Exception):
    """A delivery that did not succeed, with OSS's message and what the journal keeps."""

    def __init__(
        self, message: str, detail: str, status: int | None = None, body: bytes = b""
    ) -> None:
        super().__init__(message)
        self.message, self.detail, self.status, self.body = message, detail, status, body


class OverBudget(http.client.HTTPException):
    """The app's answer, head and body together, ran past :data:`ANSWER_BUDGET`."""


class _Budget:
    """The answer's byte stream, refusing to yield more than ``left`` bytes in all: http.client
    alone would read 100 header lines of 64 KiB each, and chunks beside a Content-Length."""

    def __init__(self, fp: Any, left: int) -> None:
        self._fp, self._left = fp, left

    def _take(self, count: int) -> None:
        self._left -= count
        if self._left < 0:
            raise OverBudget(f"the answer runs past {ANSWER_BUDGET} bytes")

    def readline(self, limit: int = -1) -> bytes:
        line = self._fp.readline(limit)
        self._take(len(line))
        return line

    def read(self, count: int | None = -1) -> bytes:
        if count is None or count < 0:
            count = max(self._left, 0) + 1  # never "until the end": that may never come
        data = self._fp.read(count)
        self._take(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        count = self._fp.readinto(buffer)
        self._take(count or 0)
        return count

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


class _CappedResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = _Budget(self.fp, ANSWER_BUDGET)  # type: ignore[assignment]


class Http10Connection(http.client.HTTPConnection):
    _http_vsn = 10
    _http_vsn_str = "HTTP/1.0"
    response_class = _CappedResponse


def judge(response: http.client.HTTPResponse, record: dict[str, Any]) -> tuple[int, bytes]:
    """Apply OSS's rules to the app's answer; raises ``Failed`` with OSS's message."""
    status = response.status
    record["response"] = {
        "status": status,
        "reason": response.reason,
        "headers": [[name, value[:MAX_HEADER_VALUE]] for name, value in response.getheaders()],
    }
    lengths = response.msg.get_all("Content-Length") or []
    if status != 200:
        body = _read_quietly(response) if _valid_length(lengths) else b""
        record["response"].update(body_field(body))
        raise Failed(f"Error status : {status}.", "the app did not answer 200", status, body)
    if not lengths:
        raise Failed(MISSING_LENGTH, "no Content-Length header", status)
    length = _valid_length(lengths)
    if length is None:
        raise Failed(INVALID_LENGTH, f"Content-Length {lengths!r}", status)
    if length > MAX_RESPONSE_BYTES:
        raise Failed(TOO_LONG, f"Content-Length {length} > {MAX_RESPONSE_BYTES}", status)
    # Never more than the cap, however the answer is framed: with Transfer-Encoding: chunked
    # beside the Content-Length, http.client follows the chunks and would read them all.
    try:
        body = response.read(MAX_RESPONSE_BYTES + 1)
    except http.client.IncompleteRead as exc:
        body = exc.partial
    record["response"].update(body_field(body))
    if len(body) > MAX_RESPONSE_BYTES:
        raise Failed(TOO_LONG, f"the body runs past {MAX_RESPONSE_BYTES} bytes", status)
    if len(body) != length:
        raise Failed(
            INVALID_LENGTH, f"body of {len(body)} bytes, Content-Length {length}", status, body
        )
    if not _is_json(body):
        raise Failed(
            NOT_JSON, "the body is not JSON (a UTF-8 BOM counts as not JSON)", status, body
        )
    return status, body


def _valid_length(values: list[str]) -> int | None:
    """The Content-Length when present, consistent and a positive integer; else None."""
    distinct = {value.strip() for value in values}
    if len(distinct) != 1:
        return None
    text = distinct.pop()
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        return None
    return int(text)


def _read_quietly(response: http.client.HTTPResponse) -> bytes:
    """A failed answer's body, for the journal only: at most the cap is read, whatever the
    framing, and reading it must not change the verdict."""
    try:
        return response.read(MAX_RESPONSE_BYTES)
    except http.client.IncompleteRead as exc:
        return exc.partial
    except (OSError, http.client.HTTPException):
        return b""


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False
    return True


def _reject_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")
