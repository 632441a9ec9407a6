"""Bucket and object naming rules (OSS error centre: InvalidBucketName, InvalidObjectName)."""

from __future__ import annotations

import re

from ..protocol.errors import BadRequest

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023


def check_bucket_name(name: str) -> str:
    """3-63 chars of a-z, 0-9, '-', starting and ending with a letter or digit."""
    if not _BUCKET_RE.match(name):
        raise BadRequest("InvalidBucketName", BucketName=name)
    return name


def check_object_key(key: str) -> str:
    """UTF-8, 1-1023 bytes, not starting with '/' or '\\': OSS's whole naming rule. Control
    characters are valid (the SDKs' suites store ``\\x01``..``\\x1f``); listings render them as
    character references (see ``protocol.xml``), and keys never become paths."""
    if not key:
        raise BadRequest("InvalidObjectName", "The Object name can not be empty.")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("InvalidObjectName", "The specified object is not valid.") from None
    if size > MAX_KEY_BYTES:
        raise BadRequest("InvalidObjectName", "The Length of Object name must be less than 1024.")
    if key[0] in "/\\":
        raise BadRequest("InvalidObjectName", "The specified object is not valid.")
    return key
