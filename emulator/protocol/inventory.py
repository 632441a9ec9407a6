"""Bucket inventory configurations: ``InventoryConfiguration`` checked as OSS checks it, and
the list document. Stored only: the emulator writes no inventory reports.

https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketinventory
"""

from __future__ import annotations

import json
import re
from xml.etree.ElementTree import Element

from .errors import BadRequest, invalid_argument
from .xml import Node, parse, render

MAX_CONFIGS = 1000
PAGE = 100
FIELDS = (
    "Size",
    "LastModifiedDate",
    "ETag",
    "StorageClass",
    "IsMultipartUploaded",
    "EncryptionStatus",
    "TransitionTime",
)
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_inventory(body: bytes, inventory_id: str) -> bytes:
    """A PutBucketInventory body for ``inventory_id``, written back in OSS's element order."""
    doc = parse(body, "InventoryConfiguration")
    given = _text(doc, "Id")
    if not _ID.fullmatch(inventory_id) or given != inventory_id:
        raise invalid_argument("The inventory id is invalid.", "inventoryId", inventory_id)
    enabled = (_text(doc, "IsEnabled") or "").lower()
    if enabled not in ("true", "false"):
        raise BadRequest("MalformedXML")
    dest = doc.find("Destination/OSSBucketDestination")
    if dest is None:
        raise BadRequest("MalformedXML")
    if _text(dest, "Format") != "CSV":
        raise invalid_argument("Only CSV is supported.", "Format", _text(dest, "Format") or "")
    bucket = _text(dest, "Bucket") or ""
    if not bucket.startswith("acs:oss:::") or not _text(dest, "AccountId"):
        raise invalid_argument("The destination is invalid.", "Bucket", bucket)
    frequency = _text(doc, "Schedule/Frequency")
    if frequency not in ("Daily", "Weekly"):
        raise invalid_argument("Invalid Frequency.", "Frequency", frequency or "")
    versions = _text(doc, "IncludedObjectVersions") or "All"
    if versions not in ("All", "Current"):
        raise invalid_argument(
            "Invalid IncludedObjectVersions.", "IncludedObjectVersions", versions
        )
    fields = [(f.text or "").strip() for f in doc.findall("OptionalFields/Field")]
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        raise invalid_argument("Invalid optional field.", "Field", bad[0])
    given_filter = doc.find("Filter")
    kept_filter = [] if given_filter is None else [_copy(c) for c in given_filter]
    nodes: list[Node] = [
        ("Id", inventory_id),
        ("IsEnabled", enabled),
        ("Destination", [("OSSBucketDestination", [_copy(c) for c in dest])]),
        ("Schedule", [("Frequency", frequency)]),
        ("Filter", kept_filter or None),
        ("IncludedObjectVersions", versions),
        ("OptionalFields", [("Field", f) for f in fields] or None),
    ]
    return render("InventoryConfiguration", nodes)


def loads(value: str | None) -> dict[str, str]:
    """The stored configurations, id -> document."""
    return {} if value is None else dict(json.loads(value))


def dumps(configs: dict[str, str]) -> str | None:
    if len(configs) > MAX_CONFIGS:
        raise invalid_argument("Too many inventory configurations.", "inventory")
    return json.dumps(configs) if configs else None


def list_xml(configs: dict[str, str], token: str) -> bytes:
    """ListBucketInventory's page: ids after ``token``, at most 100, in id order."""
    ids = sorted(i for i in configs if i > token)
    page, more = ids[:PAGE], len(ids) > PAGE
    body = b"".join(configs[i].encode().split(b"?>", 1)[-1].strip() for i in page)
    tail = f"<IsTruncated>{str(more).lower()}</IsTruncated>"
    if more:
        tail += f"<NextContinuationToken>{page[-1]}</NextContinuationToken>"
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<ListInventoryConfigurationsResult>'
        + body
        + tail.encode()
        + b"</ListInventoryConfigurationsResult>"
    )


def _copy(e: Element) -> Node:
    children = list(e)
    return (e.tag, [_copy(c) for c in children] if children else (e.text or "").strip())


def _text(e: Element, path: str) -> str | None:
    value = e.findtext(path)
    return None if value is None else value.strip()
