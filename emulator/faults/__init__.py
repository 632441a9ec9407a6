"""Fault injection: make the next N matching requests fail, stall, or lose their connection.

Off unless a rule is added (``POST /_ossemu/faults`` or :meth:`FaultInjector.add`). It exists so
users can test their own retry and resume logic, and so our tests can prove the client's.

An emulator on a data dir keeps its rules in ``faults.sqlite3`` there, so every process serving
that dir (gunicorn workers, several ``ossemu serve``) sees the same rules: one added through any
of them fires for requests that reach any of them, and ``times`` counts down across all of them.
A ``FaultInjector()`` without a path keeps its rules in its own memory.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .rule import ACTIONS, Fault, validated
from .shared import SharedRules

__all__ = ["ACTIONS", "Fault", "FaultInjector"]


class FaultInjector:
    """Thread-safe rules; the first live matching rule fires and counts down.

    With ``path`` the rules live in that SQLite file, shared by every process that opens it;
    call :meth:`close` when done. Without it they live in this object.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._shared = SharedRules(Path(path)) if path is not None else None

    def add(self, **fields: Any) -> Fault:
        """Add a rule; raises ValueError for an unknown field or a bad value."""
        fault = validated(fields)
        if self._shared is not None:
            return self._shared.add(fault)
        with self._lock:
            self._rules.append(fault)
        return fault

    def take(
        self, operation: str, bucket: str | None, key: str | None, part_number: int | None = None
    ) -> Fault | None:
        """The rule that fires for this request, if any (consuming one of its ``times``)."""
        if self._shared is not None:
            return self._shared.take(operation, bucket, key, part_number)
        if not self._rules:
            return None
        with self._lock:
            for fault in self._rules:
                if fault.matches(operation, bucket, key, part_number):
                    fault.times -= 1
                    fault.hits += 1
                    if fault.times == 0:
                        self._rules.remove(fault)
                    return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        if self._shared is not None:
            return self._shared.rules()
        with self._lock:
            return [f.to_dict() for f in self._rules]

    def clear(self) -> None:
        if self._shared is not None:
            self._shared.clear()
            return
        with self._lock:
            self._rules.clear()

    def close(self) -> None:
        """Close the shared file's connections (reopened if the injector is used again)."""
        if self._shared is not None:
            self._shared.close()
