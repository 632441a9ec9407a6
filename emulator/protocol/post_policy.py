"""PostObject's signed policy: decode it, check its signature, expiration and conditions.

Pure functions of the form's fields (names lower-cased), the secrets and ``now``; the route
decides when to call each. docs/direct-upload.md section 1 is the reference:

* V1: ``Signature = base64(HMAC-SHA1(secret, policy_b64))``; V4: ``x-oss-signature =
  hex(HMAC-SHA256(signing_key(secret, date, region), policy_b64))``. The string to sign is the
  base64 policy exactly as sent, never the decoded JSON.
* Conditions: ``{"field": "v"}``, ``["eq", "$field", "v"]``, ``["starts-with", "$field", "p"]``,
  ``["in"|"not-in", "$field", [...]]``, ``["content-length-range", min, max]``. Fields no
  condition names are accepted (unlike S3). Field names compare case-insensitively, ``$`` optional.

Choices where OSS documents nothing: a condition on a field the form lacks fails (EC
0006-00000226); a V4 ``x-oss-date`` more than 15 minutes ahead or 7 days behind is refused;
``OSS2`` (oss2's legacy form signature) is refused with a message that says so.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from .auth.common import (
    MAX_PRESIGN_SECONDS,
    MAX_SKEW_SECONDS,
    V4_ALGORITHM,
    CredentialLookup,
    compare,
    long_term,
)
from .auth.v1 import v1_signature
from .auth.v4 import v4_signature, v4_signing_key
from .errors import BadRequest, Forbidden, OssError, invalid_argument

#: Fields that carry the signature itself: no condition applies to them.
SIGNATURE_FIELDS = frozenset(("policy", "signature", "ossaccesskeyid", "x-oss-signature", "file"))
_V4_FIELDS = ("x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-signature")
_MODES = ("eq", "starts-with", "in", "not-in", "content-length-range")
# An unescaped ``\$`` (OSS's JSON reader takes it as ``$``; Python's json refuses it).
_ESCAPED_DOLLAR = re.compile(r"(?<!\\)((?:\\\\)*)\\\$")
_ISO8601 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


@dataclass(frozen=True)
class Condition:
    """One policy condition; ``text`` is the condition as written, for the error message."""

    mode: str
    field: str
    value: str | tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Policy:
    """A decoded policy: when it expires, what it demands, and the size range it allows."""

    expiration: float
    conditions: tuple[Condition, ...]
    size_range: tuple[int, int] | None


def policy_error(message: str, ec: str) -> BadRequest:
    return BadRequest("InvalidPolicyDocument", f"Invalid Policy: {message}", ec=ec)


def policy_denied(message: str, ec: str) -> Forbidden:
    return Forbidden("AccessDenied", f"Invalid according to Policy: {message}", ec=ec)


def decode_policy(encoded: str) -> Policy:
    """The ``policy`` field -> :class:`Policy`; any defect is 400 ``InvalidPolicyDocument``.

    A page uploads every file of a session with the one policy its app server signed (the
    policy is valid for minutes, the signature binds it to the key), so a policy of ordinary
    size is decoded once and then found again (about 20 us of a 4 KiB form's CPU,
    ``bench/analysis.md``). Decoding is a function of the text alone: :func:`check_expiration`
    still checks the clock on every upload, and a defect is raised every time (exceptions are
    not cached)."""
    if len(encoded) <= _CACHED_MAX:
        return _decode_cached(encoded)
    return _decode(encoded)


#: Policies the SDKs and browsers sign are a few hundred bytes; the cache holds at most
#: 256 x 8 KiB of keys, so a stream of large made-up policies cannot grow it.
_CACHED_MAX = 8 * 1024


@functools.lru_cache(maxsize=256)
def _decode_cached(encoded: str) -> Policy:
    return _decode(encoded)


def _decode(encoded: str) -> Policy:
    if not _BASE64.fullmatch(encoded) or len(encoded) % 4:
        raise policy_error("Invalid Base64 Encoding.", "0006-00000202")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise policy_error("Invalid Base64 Encoding.", "0006-00000202") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise policy_error("Invalid UTF-8 Encoding.", "0006-00000203") from None
    try:
        document = json.loads(_ESCAPED_DOLLAR.sub(r"\1$", text))
    except (ValueError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "too deeply nested"
        raise policy_error(f"Invalid JSON: {reason}", "0006-00000204") from None
    if not isinstance(document, dict):
        raise policy_error("Invalid JSON: the policy must be an object.", "0006-00000204")
    has_expiration, has_conditions = "expiration" in document, "conditions" in document
    if not has_expiration and not has_conditions:
        raise policy_error("Missing expiration and conditions.", "0006-00000209")
    if not has_conditions:
        raise policy_error("Missing conditions.", "0006-00000207")
    if not has_expiration:
        raise policy_error("Missing expiration.", "0006-00000208")
    expiration = _parse_expiration(document["expiration"])
    items = document["conditions"]
    if not isinstance(items, list):
        raise policy_error("conditions must be an array.", "0006-00000201")
    if not items:
        raise policy_error("conditions must not be empty.", "0006-00000215")
    conditions = tuple(_parse_condition(item) for item in items)
    ranges = [c for c in conditions if c.mode == "content-length-range"]
    size_range = None
    if ranges:
        size_range = (
            max(int(c.value[0]) for c in ranges),
            min(int(c.value[1]) for c in ranges),
        )
    return Policy(expiration, tuple(c for c in conditions if c not in ranges), size_range)


def _parse_expiration(value: object) -> float:
    if not isinstance(value, str):
        raise policy_error("expiration must be a string.", "0006-00000210")
    match = _ISO8601.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        parts = [int(p) for p in match.groups()[:6]]
        moment = datetime(*parts, tzinfo=timezone.utc)  # type: ignore[misc]
    except (ValueError, OverflowError):
        raise policy_error(
            f"expiration {value!r} is not ISO 8601 UTC, like 2024-01-01T12:00:00.000Z.",
            "0006-00000212",
        ) from None
    return moment.timestamp()


def _parse_condition(item: object) -> Condition:
    text = json.dumps(item, ensure_ascii=False)
    if isinstance(item, dict):
        if len(item) != 1:
            raise policy_error(
                "Invalid Simple-Condition: Simple-Conditions must have exactly one property "
                "specified.",
                "0006-00000201",
            )
        ((name, value),) = item.items()
        return Condition("eq", _field(name), _string(value, text), text)
    if not isinstance(item, list):
        raise policy_error(f"Invalid condition {text}: not an object or array.", "0006-00000222")
    if not item or not isinstance(item[0], str):
        raise policy_error(f"Invalid condition {text}: no match mode.", "0006-00000216")
    mode = item[0].lower()
    if mode not in _MODES:
        raise policy_error(f"Invalid condition {text}: unknown mode {item[0]!r}.", "0006-00000217")
    if len(item) != 3:
        raise policy_error(f"Invalid condition {text}: needs 3 items.", "0006-00000218")
    if mode == "content-length-range":
        low, high = _bound(item[1], text), _bound(item[2], text)
        if high < low:
            raise policy_error(f"Invalid condition {text}: max < min.", "0006-00000219")
        return Condition(mode, "", (str(low), str(high)), text)
    if not isinstance(item[1], str):
        raise policy_error(f"Invalid condition {text}: field must be a string.", "0006-00000222")
    if mode in ("in", "not-in"):
        if not isinstance(item[2], list):
            raise policy_error(f"Invalid condition {text}: needs a list.", "0006-00000224")
        return Condition(mode, _field(item[1]), tuple(_string(v, text) for v in item[2]), text)
    return Condition(mode, _field(item[1]), _string(item[2], text), text)


def _field(name: str) -> str:
    return name.removeprefix("$").lower()


def _string(value: object, text: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise policy_error(f"Invalid condition {text}: values must be strings.", "0006-00000224")
    # Java's PolicyConditions writes a backslash before ${filename}: it means a literal '$'.
    return str(value).replace("\\$", "$")


def _bound(value: object, text: str) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise policy_error(
            f"Invalid condition {text}: bounds must be non-negative integers.", "0006-00000220"
        )
    return value


def check_expiration(policy: Policy, now: float) -> None:
    if now > policy.expiration:
        raise policy_denied("Policy expired.", "0006-00000213")


def check_conditions(policy: Policy, fields: Mapping[str, str], bucket: str) -> None:
    """Every condition but content-length-range (the size is known only once stored)."""
    for condition in policy.conditions:
        if condition.field in SIGNATURE_FIELDS:
            continue  # the signature cannot sign itself; the file is checked by its size
        value = bucket if condition.field == "bucket" else fields.get(condition.field)
        if value is None:
            raise policy_denied(f"Policy Condition failed: {condition.text}", "0006-00000226")
        if not _holds(condition, value):
            raise policy_denied(f"Policy Condition failed: {condition.text}", "0006-00000227")


def _holds(condition: Condition, value: str) -> bool:
    expected = condition.value
    if condition.mode == "eq":
        return value == expected
    if condition.mode == "starts-with":
        return isinstance(expected, str) and value.startswith(expected)
    if condition.mode == "in":
        return value in expected
    return value not in expected  # not-in


def check_size(policy: Policy, size: int) -> None:
    """content-length-range, checked as the file streams in (and once more at its end)."""
    if policy.size_range is None:
        return
    low, high = policy.size_range
    if size > high:
        raise BadRequest("EntityTooLarge", ec="0006-00000003")
    if size < low:
        raise BadRequest("EntityTooSmall", ec="0006-00000004")


def has_signature(fields: Mapping[str, str]) -> bool:
    """Whether the form is signed at all (else it is anonymous)."""
    return any(name in fields for name in ("ossaccesskeyid", "policy", "signature", *_V4_FIELDS))


def verify_form_signature(
    fields: Mapping[str, str], keys: CredentialLookup | Mapping[str, str], now: float
) -> str:
    """Check the form's V1 or V4 policy signature; return the signer's access key id.

    ``keys`` resolves the key id with the form's ``x-oss-security-token`` field (an STS
    session's secret), or is a plain dict of long-term keys."""
    lookup = long_term(keys) if isinstance(keys, Mapping) else keys

    def secret_for(access_key_id: str) -> str:
        return lookup(access_key_id, fields.get("x-oss-security-token") or None).secret

    version = fields.get("x-oss-signature-version")
    if version is not None:
        return _verify_v4(fields, version, secret_for, now)
    access_key_id, policy = fields.get("ossaccesskeyid"), fields.get("policy")
    signature = fields.get("signature")
    if policy is None:
        raise _missing("policy", "0002-00000702")
    if signature is None:
        raise _missing("Signature", "0002-00000703")
    if not signature:
        raise _missing("Signature", "0002-00000704", empty=True)
    if access_key_id is None:
        raise _missing("OSSAccessKeyId", "0002-00000706")
    if not access_key_id:
        raise _missing("OSSAccessKeyId", "0002-00000707", empty=True)
    secret = secret_for(access_key_id)
    _compare(v1_signature(secret, policy), signature, access_key_id, policy)
    return access_key_id


def _verify_v4(
    fields: Mapping[str, str], version: str, secret_for: Callable[[str], str], now: float
) -> str:
    if version != V4_ALGORITHM:
        message = f"x-oss-signature-version must be {V4_ALGORITHM} (OSS2 forms are not supported)."
        raise invalid_argument(message, "x-oss-signature-version", version, ec="0002-00000701")
    for name in ("policy", "x-oss-credential", "x-oss-date", "x-oss-signature"):
        if not fields.get(name):
            raise invalid_argument(f"The form field {name} is required for V4.", name)
    credential, stamp = fields["x-oss-credential"], fields["x-oss-date"]
    parts = credential.split("/")
    if (
        len(parts) != 5
        or not parts[0]
        or not re.fullmatch(r"[0-9]{8}", parts[1])
        or not parts[2]
        or parts[3:] != ["oss", "aliyun_v4_request"]
    ):
        message = (
            "Invalid credential: expected <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request."
        )
        raise invalid_argument(message, "x-oss-credential", credential, ec="0002-00000710")
    access_key_id, date, region = parts[0], parts[1], parts[2]
    _check_v4_date(stamp, date, now)
    secret = secret_for(access_key_id)
    expected = v4_signature(v4_signing_key(secret, date, region), fields["policy"])
    _compare(expected, fields["x-oss-signature"], access_key_id, fields["policy"])
    return access_key_id


def _check_v4_date(stamp: str, date: str, now: float) -> None:
    try:
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        moment = None
    if moment is None or not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", stamp) or stamp[:8] != date:
        message = "x-oss-date must be yyyymmddTHHMMSSZ on the credential's date."
        raise invalid_argument(message, "x-oss-date", stamp, ec="0002-00000709")
    signed = moment.timestamp()
    if signed - now > MAX_SKEW_SECONDS or now - signed > MAX_PRESIGN_SECONDS:
        raise Forbidden(
            "AccessDenied",
            "x-oss-date is more than 15 minutes ahead or 7 days behind the server's time.",
            ec="0002-00000709",
        )


def _compare(expected: str, provided: str, access_key_id: str, policy: str) -> None:
    """The header check's comparison, with the form's EC. The string to sign is the policy as
    sent (ASCII, so its bytes add nothing), and a policy field may hold 2 MB: past 8 KiB it is
    left out of the error, which also travels base64'd in the ``x-oss-err`` header."""
    try:
        compare(expected, provided, access_key_id, policy)
    except OssError as error:
        error.ec = "0002-00000705"
        error.details.pop("StringToSignBytes", None)
        if len(policy) > 8 * 1024:
            error.details.pop("StringToSign", None)
        raise


def _missing(name: str, ec: str, *, empty: bool = False) -> BadRequest:
    state = "empty" if empty else "missing"
    message = (
        f"The form field {name} is {state}: a signed form needs OSSAccessKeyId, policy and "
        "Signature."
    )
    return invalid_argument(message, name, ec=ec)
