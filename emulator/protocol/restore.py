"""RestoreObject's request document and the ``x-oss-restore`` header: pure wire format."""

from __future__ import annotations

from .errors import invalid_argument
from .http import http_date, parse_uint
from .xml import parse

#: ``JobParameters/Tier`` values OSS takes for the cold classes (how fast the restore runs).
TIERS = ("Expedited", "Standard", "Bulk")
MAX_DAYS = 365


def parse_restore_request(body: bytes) -> tuple[int, str]:
    """``<RestoreRequest><Days/><JobParameters><Tier/></JobParameters>`` -> (days, tier);
    an empty body is one day at the Standard tier, as OSS takes it."""
    if not body.strip():
        return 1, "Standard"
    doc = parse(body, "RestoreRequest")
    text = (doc.findtext("Days") or "1").strip()
    days = parse_uint(text)
    if days is None or not 1 <= days <= MAX_DAYS:
        raise invalid_argument("The Days you specified is invalid.", "Days", text)
    tier = (doc.findtext("JobParameters/Tier") or "Standard").strip()
    if tier not in TIERS:
        raise invalid_argument("The Tier you specified is invalid.", "Tier", tier)
    return days, tier


def restore_header(ongoing: bool, expires: float) -> str:
    """``ongoing-request="true"`` while a restore runs, then its expiry date."""
    if ongoing:
        return 'ongoing-request="true"'
    return f'ongoing-request="false", expiry-date="{http_date(expires)}"'
