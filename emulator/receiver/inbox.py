"""What arrived at one URL prefix and how to answer there: shared by receiver and scopes."""

from __future__ import annotations

import threading
from typing import Any

from .records import DEFAULT_BODY, ReceivedCallback, Reply, body_bytes, field_of, summary


class Inbox:
    """One log, one error list and one reply, under one condition; ``closed`` ends delays."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.log: list[ReceivedCallback] = []
        self.errors: list[BaseException] = []
        self.reply = Reply()
        self.closed = threading.Event()

    def record(self, callback: ReceivedCallback) -> Reply:
        with self.lock:
            self.log.append(callback)
            self.lock.notify_all()
            return self.reply

    def record_error(self, error: BaseException) -> None:
        with self.lock:
            self.errors.append(error)
            self.lock.notify_all()


class Recorder:
    """The test-facing half: ``log``, ``respond_with``, ``wait_for``, ``assert_received``…"""

    _inbox: Inbox

    @property
    def log(self) -> list[ReceivedCallback]:
        with self._inbox.lock:
            return list(self._inbox.log)

    def respond_with(
        self,
        status: int = 200,
        body: str | bytes | dict[str, Any] = DEFAULT_BODY,
        *,
        delay: float = 0.0,
        content_type: str | None = "application/json",
        content_length: bool | str = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        """How to answer every following callback; ``body`` is str, bytes or a dict (JSON);
        ``content_length`` may be a raw header value."""
        reply = Reply(
            status, body_bytes(body), delay, content_type, content_length, dict(headers or {})
        )
        with self._inbox.lock:
            self._inbox.reply = reply

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedCallback]:
        """The first ``n`` callbacks, waiting for them to arrive."""
        inbox = self._inbox
        with inbox.lock:
            arrived = inbox.lock.wait_for(lambda: len(inbox.log) >= n or inbox.errors, timeout)
            arrived = len(inbox.log) >= n
            log = list(inbox.log)
        self.check()
        if not arrived:
            lines = [f"expected {n} callbacks within {timeout}s, got {len(log)}"]
            lines += [f"  {summary(callback)}" for callback in log]
            raise AssertionError("\n".join(lines))
        return log[:n]

    def assert_received(self, **fields: Any) -> ReceivedCallback:
        """The first callback whose path/method/verified/rejected or form, JSON or query
        fields equal ``fields``; otherwise AssertionError listing the nearest misses."""
        self.check()
        misses = []
        for callback in self.log:
            wrong = {name: field_of(callback, name) for name in fields}
            wrong = {name: value for name, value in wrong.items() if value != fields[name]}
            if not wrong:
                return callback
            misses.append((len(wrong), callback, wrong))
        misses.sort(key=lambda miss: miss[0])
        lines = [f"no callback matched {fields!r} ({len(misses)} received)"]
        for _, callback, wrong in misses[:5]:
            diffs = ", ".join(
                f"{name}={value!r} (want {fields[name]!r})" for name, value in wrong.items()
            )
            lines.append(f"  {callback.method} {callback.path}: {diffs}")
        raise AssertionError("\n".join(lines))

    def check(self) -> None:
        """Re-raise the first error raised in the server thread."""
        with self._inbox.lock:
            error = self._inbox.errors[0] if self._inbox.errors else None
        if error is not None:
            raise error

    def clear(self) -> None:
        """Forget callbacks and errors and go back to answering ``{"Status":"OK"}``."""
        with self._inbox.lock:
            self._inbox.log.clear()
            self._inbox.errors.clear()
            self._inbox.reply = Reply()
