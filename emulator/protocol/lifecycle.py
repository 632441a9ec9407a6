"""Bucket lifecycle rules: ``LifecycleConfiguration`` read, checked and written back as OSS
does, and which objects and uploads a rule has expired at a given moment.

https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketlifecycle
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from xml.etree.ElementTree import Element

from .errors import BadRequest, invalid_argument
from .http import iso8601
from .xml import Node, parse, render

DAY = 86400
MAX_RULES = 1000
STORAGE_CLASSES = ("IA", "Archive", "ColdArchive", "DeepColdArchive")


@dataclass(frozen=True)
class When:
    """``Days`` after the last change, or a ``Date``/``CreatedBeforeDate`` (epoch, midnight UTC)."""

    days: int | None = None
    date: float | None = None
    tag: str = "Days"  # the element the date came in: Date or CreatedBeforeDate

    def cutoff(self, now: float) -> float:
        """Objects changed (uploads started) before this moment are due."""
        return now - self.days * DAY if self.days is not None else self.date or 0.0

    def nodes(self) -> list[Node]:
        if self.days is not None:
            return [("Days", self.days)]
        return [(self.tag, iso8601(self.date or 0.0))]


@dataclass(frozen=True)
class Rule:
    id: str
    prefix: str
    enabled: bool
    expiration: When | None = None
    abort_upload: When | None = None
    transitions: list[tuple[When, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)


def parse_lifecycle(body: bytes) -> list[Rule]:
    """The rules of a PutBucketLifecycle body; MalformedXML or InvalidArgument as OSS says."""
    doc = parse(body, "LifecycleConfiguration")
    rules = [_rule(e, n) for n, e in enumerate(doc.findall("Rule"), 1)]
    if not rules or len(rules) > MAX_RULES:
        raise BadRequest("MalformedXML")
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise invalid_argument(
            "Rule ID must be unique.", "ID", next(i for i in ids if ids.count(i) > 1)
        )
    return rules


def to_xml(rules: list[Rule]) -> bytes:
    """GetBucketLifecycle's document."""
    return render("LifecycleConfiguration", [("Rule", _rule_nodes(r)) for r in rules])


def _rule_nodes(rule: Rule) -> list[Node]:
    nodes: list[Node] = [
        ("ID", rule.id),
        ("Prefix", rule.prefix),
        ("Status", "Enabled" if rule.enabled else "Disabled"),
    ]
    nodes += [("Tag", [("Key", k), ("Value", v)]) for k, v in rule.tags]
    if rule.expiration is not None:
        nodes.append(("Expiration", rule.expiration.nodes()))
    for when, storage_class in rule.transitions:
        nodes.append(("Transition", [*when.nodes(), ("StorageClass", storage_class)]))
    if rule.abort_upload is not None:
        nodes.append(("AbortMultipartUpload", rule.abort_upload.nodes()))
    return nodes


def _rule(e: Element, number: int) -> Rule:
    status = _text(e, "Status")
    if status not in ("Enabled", "Disabled"):
        raise BadRequest("MalformedXML")
    rule_id = _text(e, "ID") or f"rule{number}"
    if len(rule_id) > 255:
        raise invalid_argument("Rule ID is too long.", "ID", rule_id[:64])
    prefix = _text(e, "Prefix") or (
        _text(e, "Filter/Prefix") if e.find("Filter") is not None else ""
    )
    expiration = _when(e.find("Expiration"), ("Days", "Date", "CreatedBeforeDate"))
    abort = _when(e.find("AbortMultipartUpload"), ("Days", "CreatedBeforeDate"))
    transitions = []
    for t in e.findall("Transition"):
        storage_class = _text(t, "StorageClass")
        if storage_class not in STORAGE_CLASSES:
            raise invalid_argument("Invalid StorageClass.", "StorageClass", storage_class or "")
        transitions.append((_when(t, ("Days", "CreatedBeforeDate")) or When(), storage_class))
    tags = [(_text(t, "Key") or "", _text(t, "Value") or "") for t in e.findall("Tag")]
    expired_marker = e.find("Expiration/ExpiredObjectDeleteMarker") is not None
    if expiration is None and abort is None and not transitions and not expired_marker:
        raise invalid_argument("Rule must have at least one action.", "Rule", rule_id)
    return Rule(rule_id, prefix or "", status == "Enabled", expiration, abort, transitions, tags)


def _when(e: Element | None, allowed: tuple[str, ...]) -> When | None:
    if e is None:
        return None
    given = [tag for tag in allowed if e.find(tag) is not None]
    if len(given) > 1:
        raise BadRequest("MalformedXML")
    if not given:
        if e.tag == "Expiration" and e.find("ExpiredObjectDeleteMarker") is not None:
            return None
        raise BadRequest("MalformedXML")
    tag = given[0]
    text = _text(e, tag) or ""
    if tag == "Days":
        if not text.isdigit() or not 0 < int(text) <= 2**31 - 1:
            raise invalid_argument("Days must be a positive integer.", "Days", text)
        return When(days=int(text))
    return When(date=_midnight(text, tag), tag=tag)


def _midnight(text: str, tag: str) -> float:
    """OSS takes ``2023-01-01T00:00:00.000Z``: ISO 8601, UTC midnight."""
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        if moment.hour or moment.minute or moment.second or moment.microsecond:
            break
        return moment.timestamp()
    raise invalid_argument(f"{tag} must be date in ISO8601 format and at midnight UTC.", tag, text)


def _text(e: Element, path: str) -> str | None:
    value = e.findtext(path)
    return None if value is None else value.strip()
