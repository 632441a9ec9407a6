"""When and how long to wait before replaying a request.

Retried: connection failures and timeouts, HTTP 5xx, 408, 429 and ``RequestTimeTooSkewed``
(after correcting the clock). Only bodies that can be rewound are replayed (bytes, seekable
files); an iterator or pipe is sent once.

Upload callbacks: a PutObject/CompleteMultipartUpload carrying ``x-oss-callback`` is replayed
only when the server never got it (connection refused, connect timeout) or rejected it at
authentication (``RequestTimeTooSkewed``). Once the body may have reached OSS the object may be
stored and the app server called; a replay could fire the callback twice, so the error is raised
instead and the caller decides (``head_object`` tells whether the object landed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset({"RequestTimeTooSkewed", "RequestTimeout", "InternalError"})
# Codes meaning "rejected before anything was stored": safe even for callback requests.
REJECTED_UNPROCESSED = frozenset({"RequestTimeTooSkewed"})


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` replays after the first attempt, full-jitter exponential backoff."""

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry settings must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to sleep before replay number ``attempt`` (1-based): U(0, base * 2^n)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def retryable_status(status: int, code: str) -> bool:
    """Whether an error response is worth a replay."""
    return status in RETRYABLE_STATUS or status >= 500 or code in RETRYABLE_CODES


def retryable_exception(exc: BaseException) -> bool:
    """Transport errors that a replay can fix (not bad URLs or invalid headers)."""
    return isinstance(
        exc, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError
    )


def never_reached_server(exc: BaseException) -> bool:
    """True when the request provably was not delivered (nothing can have been stored)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = getattr(exc.args[0] if exc.args else None, "reason", None)
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False
