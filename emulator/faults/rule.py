"""One fault rule: what it matches, what it does, and the checks a new rule must pass."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

ACTIONS = ("error", "delay", "drop")


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
    id: int = 0  # given by the rules file when the rule is added
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


def validated(fields: dict[str, Any], operations: Collection[str] | None = None) -> Fault:
    """A rule from ``fields``, or ValueError; ``operation`` must be one of ``operations``
    (when given): a misspelt name would otherwise be accepted and never fire."""
    known = Fault.__dataclass_fields__.keys() - {"id", "hits"}
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    _check_types(fields)
    fault = Fault(**fields)
    if fault.action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    known_operation = operations is None or fault.operation in (None, *operations)
    if not known_operation:
        raise ValueError(
            f"unknown operation {fault.operation!r}: must be one of "
            + ", ".join(sorted(operations or ()))
        )
    if fault.times < 1:
        raise ValueError("times must be at least 1")
    if not 100 <= fault.status <= 599 or fault.delay < 0:
        raise ValueError("status must be 100-599 and delay at least 0")
    return fault


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
