"""Fault injection: make the next N matching requests fail, stall, or lose their connection.

Off unless a rule is added (``POST /_ossemu/faults`` or :meth:`FaultInjector.add`). Rules live in
the memory of the process that received them: with several worker processes, add them to each
(or run one process when testing retry logic). It exists so users can test their own retry and
resume logic, and so our tests can prove the client's.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from itertools import count
from typing import Any

ACTIONS = ("error", "delay", "drop")
_ids = count(1)


@dataclass
class Fault:
    """One rule. Empty match fields match anything; ``times`` counts down to zero."""

    action: str = "error"  # error | delay | drop
    operation: str | None = None  # e.g. PutObject, UploadPart, CompleteMultipartUpload
    bucket: str | None = None
    key: str | None = None
    part_number: int | None = None
    times: int = 1
    status: int = 500
    code: str = "InternalError"
    message: str = "Injected fault."
    delay: float = 0.0  # seconds; for "delay" (then the request proceeds) and before "error"
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0

    def matches(
        self, operation: str, bucket: str | None, key: str | None, part_number: int | None
    ) -> bool:
        return (
            (self.operation is None or self.operation == operation)
            and (self.bucket is None or self.bucket == bucket)
            and (self.key is None or self.key == key)
            and (self.part_number is None or self.part_number == part_number)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """Thread-safe list of rules; the first live matching rule fires and counts down."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, **fields: Any) -> Fault:
        known = Fault.__dataclass_fields__.keys() - {"id", "hits"}
        unknown = set(fields) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        _check_types(fields)
        fault = Fault(**fields)
        if fault.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        if not 100 <= fault.status <= 599 or fault.delay < 0:
            raise ValueError("status must be 100-599 and delay at least 0")
        with self._lock:
            self._rules.append(fault)
        return fault

    def take(
        self, operation: str, bucket: str | None, key: str | None, part_number: int | None = None
    ) -> Fault | None:
        """The rule that fires for this request, if any (consuming one of its ``times``)."""
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
        with self._lock:
            return [f.to_dict() for f in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


# A rule from the control API is JSON: a wrong type would only fail later, as a 500 for some
# other client's request, so it is refused when added.
_TYPES: dict[str, tuple[type, ...]] = {
    "action": (str,),
    "operation": (str, type(None)),
    "bucket": (str, type(None)),
    "key": (str, type(None)),
    "part_number": (int, type(None)),
    "times": (int,),
    "status": (int,),
    "code": (str,),
    "message": (str,),
    "delay": (int, float),
}


def _check_types(fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if isinstance(value, bool) or not isinstance(value, _TYPES[name]):
            raise ValueError(f"{name} has the wrong type: {value!r}")
