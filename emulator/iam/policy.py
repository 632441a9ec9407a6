"""RAM policy documents: the grammar STS checks, and a pure :func:`evaluate`.

Grammar and evaluation follow docs/direct-upload.md section 6: ``Version`` "1"; statements with
``Effect`` Allow/Deny, ``Action`` and ``Resource`` (``*`` any run of characters, ``?`` one;
actions compare case-insensitively, resources exactly) and optional ``Condition`` blocks. A
matching Deny wins, then a matching Allow; nothing matching is an implicit deny. A condition key
the request does not have (``oss:Prefix`` on a PutObject) does not match.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

Decision = Literal["allow", "explicit-deny", "implicit-deny"]
_STRING_OPS = {
    "StringEquals": (False, False, False),  # (negate, ignore case, wildcards)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, True, False),
    "StringNotEqualsIgnoreCase": (True, True, False),
    "StringLike": (False, False, True),
    "StringNotLike": (True, False, True),
}
_COMPARE = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a != b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
OPERATORS = frozenset(
    [*_STRING_OPS, "Bool", "IpAddress", "NotIpAddress"]
    + [f"{kind}{op}" for kind in ("Numeric", "Date") for op in _COMPARE]
)


class PolicyError(ValueError):
    """The document does not pass the grammar check."""


@dataclass(frozen=True)
class Statement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    #: ((operator, ((key, (values...)), ...)), ...)
    conditions: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]


@lru_cache(maxsize=256)
def parse(text: str) -> Policy:
    """The policy in ``text``; :class:`PolicyError` says what is wrong."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise PolicyError(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or set(doc) - {"Version", "Statement"}:
        raise PolicyError("a policy is an object with Version and Statement only")
    if doc.get("Version") != "1":
        raise PolicyError('Version must be "1"')
    statements = doc.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise PolicyError("Statement must be a non-empty list")
    return Policy(tuple(_statement(s) for s in statements))


def _statement(raw: Any) -> Statement:
    if not isinstance(raw, dict) or set(raw) - {"Effect", "Action", "Resource", "Condition"}:
        raise PolicyError("a statement has Effect, Action, Resource and optionally Condition")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError("Effect must be Allow or Deny")
    conditions = raw.get("Condition", {})
    if not isinstance(conditions, dict):
        raise PolicyError("Condition must be an object")
    parsed = []
    for operator, block in conditions.items():
        if operator not in OPERATORS or not isinstance(block, dict) or not block:
            raise PolicyError(f"unknown condition operator or empty block: {operator!r}")
        keys = tuple((str(k).lower(), _values(v, "Condition value")) for k, v in block.items())
        parsed.append((operator, keys))
    return Statement(
        effect,
        _strings(raw.get("Action"), "Action"),
        _strings(raw.get("Resource"), "Resource"),
        tuple(parsed),
    )


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise PolicyError(f"{what} must be a non-empty string or list of strings")
    return tuple(items)


def _values(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, (str, int, float, bool)) for i in items):
        raise PolicyError(f"{what} must be a string, number, boolean or a list of them")
    return tuple(str(i).lower() if isinstance(i, bool) else str(i) for i in items)


def evaluate(
    policy: Policy, action: str, resource: str, context: Mapping[str, str] | None = None
) -> Decision:
    """Whether ``policy`` lets ``action`` on ``resource`` happen, given the request's condition
    keys in ``context`` (lower-cased names such as ``oss:prefix``)."""
    context = {k.lower(): v for k, v in (context or {}).items()}
    allowed = False
    for statement in policy.statements:
        if not any(wildcard(p, True).fullmatch(action) for p in statement.actions):
            continue
        if not any(wildcard(p, False).fullmatch(resource) for p in statement.resources):
            continue
        if not all(_condition(op, keys, context) for op, keys in statement.conditions):
            continue
        if statement.effect == "Deny":
            return "explicit-deny"
        allowed = True
    return "allow" if allowed else "implicit-deny"


@lru_cache(maxsize=1024)
def wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """``*`` any run of characters (``/`` included), ``?`` exactly one; the rest literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _condition(
    operator: str, keys: tuple[tuple[str, tuple[str, ...]], ...], context: Mapping[str, str]
) -> bool:
    for key, values in keys:
        actual = context.get(key)
        if actual is None or not _matches(operator, actual, values):
            return False
    return True


def _matches(operator: str, actual: str, values: tuple[str, ...]) -> bool:
    if operator in _STRING_OPS:
        negate, ignore_case, like = _STRING_OPS[operator]
        if like:
            hit = any(wildcard(v, ignore_case).fullmatch(actual) for v in values)
        elif ignore_case:
            hit = any(v.lower() == actual.lower() for v in values)
        else:
            hit = actual in values
        return hit != negate
    if operator == "Bool":
        return actual.lower() in (v.lower() for v in values)
    if operator in ("IpAddress", "NotIpAddress"):
        return _in_networks(actual, values) != (operator == "NotIpAddress")
    kind = "Numeric" if operator.startswith("Numeric") else "Date"
    compare = _COMPARE[operator[len(kind) :]]
    convert = _number if kind == "Numeric" else _date
    left = convert(actual)
    rights = [convert(v) for v in values]
    return left is not None and any(r is not None and compare(left, r) for r in rights)


def _in_networks(actual: str, values: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(actual)
    except ValueError:
        return False
    for value in values:
        try:
            if address in ipaddress.ip_network(value, strict=False):
                return True
        except ValueError:
            if wildcard(value, False).fullmatch(actual):  # RAM also allows 192.168.*
                return True
    return False


def _number(text: str) -> float | None:
    try:
        return float(text) if len(text) < 64 else None
    except ValueError:
        return None


def _date(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError, OSError):
        return None
