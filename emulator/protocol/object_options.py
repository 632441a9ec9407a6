"""What an upload may ask of the object besides its bytes: storage class, tags, server-side
encryption and a traffic limit. Pure functions over request headers; each refuses a bad value
with OSS's error, so nothing asked for is dropped without a word.
"""

from __future__ import annotations

from urllib.parse import unquote

from .errors import OssError, invalid_argument

STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
#: Classes whose bytes OSS serves only after RestoreObject.
ARCHIVED = frozenset(("Archive", "ColdArchive", "DeepColdArchive"))
MAX_TAGS = 10
SSE_ALGORITHMS = ("AES256", "KMS", "SM4")
#: x-oss-traffic-limit, in bit/s: 100 KB/s to 100 MB/s.
TRAFFIC_LIMIT = (819_200, 838_860_800)
_TAG_PUNCTUATION = frozenset(" +-=._:/")


def storage_class(value: str | None, default: str, *, ec: str = "0017-00000132") -> str:
    """``x-oss-storage-class`` (or a bucket's ``<StorageClass>``), else ``default``."""
    if value is None:
        return default
    if value == "":
        raise invalid_argument(
            "The storage class can not be empty.", "x-oss-storage-class", "", ec="0017-00000131"
        )
    if value not in STORAGE_CLASSES:
        raise invalid_argument(
            f"Invalid storage class value {value!r}: use one of {', '.join(STORAGE_CLASSES)}.",
            "x-oss-storage-class",
            value,
            ec=ec,
        )
    return value


def parse_tagging(value: str | None) -> dict[str, str] | None:
    """``x-oss-tagging: k1=v1&k2=v2`` (each part URL-encoded) -> tags; None when absent."""
    if value is None:
        return None
    tags: dict[str, str] = {}
    for pair in value.split("&") if value else []:
        if pair.count("=") > 1:
            raise invalid_argument(
                "The tag is not in key or key=value format.",
                "x-oss-tagging",
                value,
                ec="0010-00000219",
            )
        key, _, tag_value = pair.partition("=")
        key, tag_value = unquote(key), unquote(tag_value)
        if key in tags:
            raise invalid_argument(
                "Tag keys must be unique.", "x-oss-tagging", value, ec="0010-00000218"
            )
        tags[key] = tag_value
    check_tags(tags)
    return tags


def check_tags(tags: dict[str, str]) -> None:
    """At most 10 tags; keys of 1-128 and values of 0-256 letters, digits, spaces, ``+-=._:/``."""
    if len(tags) > MAX_TAGS:
        raise invalid_argument(
            f"An object can have at most {MAX_TAGS} tags.", "x-oss-tagging", ec="0010-00000218"
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or not _tag_text(key + value):
            raise invalid_argument(
                "The tag key or value is invalid.", "x-oss-tagging", key, ec="0010-00000217"
            )


MAX_BUCKET_TAGS = 20
_RESERVED_TAG_PREFIXES = ("http://", "https://", "Aliyun")


def check_bucket_tags(tags: dict[str, str]) -> None:
    """PutBucketTags: at most 20 tags; keys of 1-64 bytes that do not start with ``http://``,
    ``https://`` or ``Aliyun``, values of at most 128 bytes (UTF-8)."""
    if len(tags) > MAX_BUCKET_TAGS:
        raise invalid_argument(f"A bucket can have at most {MAX_BUCKET_TAGS} tags.", "Tagging")
    for key, value in tags.items():
        if not 1 <= len(key.encode()) <= 64 or key.startswith(_RESERVED_TAG_PREFIXES):
            raise invalid_argument("The tag key is invalid.", "Key", key)
        if len(value.encode()) > 128:
            raise invalid_argument("The tag value is invalid.", "Value", value)


def _tag_text(text: str) -> bool:
    # Letters and digits of any script: oss2's suite tags with Chinese keys, and OSS takes them.
    return all(c.isalnum() or c in _TAG_PUNCTUATION for c in text)


def tagging_directive(headers: dict[str, str]) -> str:
    """CopyObject's ``x-oss-tagging-directive``: COPY (keep the source's tags) or REPLACE."""
    value = headers.get("x-oss-tagging-directive", "COPY").upper()
    if value not in ("COPY", "REPLACE"):
        raise invalid_argument(
            "The tagging directive is invalid.", "x-oss-tagging-directive", value
        )
    return value


def encryption_headers(headers: dict[str, str]) -> dict[str, str]:
    """The ``x-oss-server-side-encryption*`` headers an object keeps and echoes, validated."""
    algorithm = headers.get("x-oss-server-side-encryption")
    data = headers.get("x-oss-server-side-data-encryption")
    key_id = headers.get("x-oss-server-side-encryption-key-id")
    if algorithm is None:
        if data is not None or key_id is not None:
            raise invalid_argument(
                "x-oss-server-side-encryption must be KMS to use a key id or data encryption.",
                "x-oss-server-side-encryption",
                "",
            )
        return {}
    if algorithm not in SSE_ALGORITHMS:
        raise OssError("InvalidEncryptionAlgorithmError")
    if (data is not None or key_id is not None) and algorithm != "KMS":
        raise invalid_argument(
            "x-oss-server-side-encryption must be KMS to use a key id or data encryption.",
            "x-oss-server-side-encryption",
            algorithm,
        )
    if data is not None and data != "SM4":
        raise invalid_argument(
            "The x-oss-server-side-data-encryption is invalid: only SM4.",
            "x-oss-server-side-data-encryption",
            data,
        )
    if key_id == "":
        raise invalid_argument(
            "The x-oss-server-side-encryption-key-id can not be empty.",
            "x-oss-server-side-encryption-key-id",
            "",
            ec="0005-00000205",
        )
    kept = {"x-oss-server-side-encryption": algorithm}
    if data is not None:
        kept["x-oss-server-side-data-encryption"] = data
    if key_id is not None:
        kept["x-oss-server-side-encryption-key-id"] = key_id
    return kept


def traffic_limit(value: str | None) -> int | None:
    """``x-oss-traffic-limit`` in bit/s, within OSS's range (the emulator does not throttle)."""
    if value is None:
        return None
    low, high = TRAFFIC_LIMIT
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise invalid_argument(
            f"The traffic limit must be an integer from {low} to {high} (bit/s).",
            "x-oss-traffic-limit",
            value,
        )
    return int(value)
