"""Fault injection: make the next N matching requests fail, stall, or lose their connection.

Off unless a rule is added (``POST /_ossemu/faults`` or :meth:`FaultInjector.add`). It exists so
users can test their own retry and resume logic, and so our tests can prove the client's.

An emulator on a data dir keeps its rules in ``faults.sqlite3`` there, so every process serving
that dir (gunicorn workers, several ``ossemu serve``) sees the same rules: one added through any
of them fires for requests that reach any of them, and ``times`` counts down across all of them.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from .rule import ACTIONS, Fault, validated
from .shared import SharedRules

__all__ = ["ACTIONS", "Fault", "FaultInjector"]


class FaultInjector:
    """Thread- and process-safe rules in the SQLite file ``path``; the first live matching rule
    fires and counts down. Call :meth:`close` when done."""

    def __init__(self, path: Path, operations: Collection[str] | None = None) -> None:
        """``operations``: the OSS operation names a rule may name (the app passes its route
        table's); ``None`` accepts any name."""
        self.path = Path(path)
        self.operations = None if operations is None else frozenset(operations)
        self._shared = SharedRules(self.path)

    def add(self, **fields: Any) -> Fault:
        """Add a rule; raises ValueError for an unknown field or operation, or a bad value."""
        return self._shared.add(validated(fields, self.operations))

    def take(
        self, operation: str, bucket: str | None, key: str | None, part_number: int | None = None
    ) -> Fault | None:
        """The rule that fires for this request, if any (consuming one of its ``times``)."""
        return self._shared.take(operation, bucket, key, part_number)

    def list(self) -> list[dict[str, Any]]:
        return self._shared.rules()

    def clear(self) -> None:
        self._shared.clear()

    def close(self) -> None:
        """Close the file's connections (reopened if the injector is used again)."""
        self._shared.close()
