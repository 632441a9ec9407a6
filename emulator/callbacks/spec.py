"""Decode and validate an upload's callback configuration into a :class:`CallbackSpec`.

The configuration arrives as base64 JSON in the ``x-oss-callback`` header or the ``callback`` query
parameter (presigned URLs); custom variables in ``x-oss-callback-var`` / ``callback-var``. Every
problem is a 400 ``InvalidArgument`` raised *before* the object is stored, as OSS does.

Choices where OSS documents nothing (docs/oss-protocol.md section 11):

* Base64 must be the standard alphabet with ``=`` padding, which is what every official SDK sends.
  URL-safe or unpadded text is refused with a message that says so, so a hand-made encoder fails
  here rather than in production.
* An empty ``x-oss-callback`` value counts as no callback, like a missing ``callbackUrl``.
* ``callbackBodyType`` is compared case-insensitively (media types are).
* IPv6 literal URLs are accepted unless ``strict_urls`` (real OSS refuses them).
* Control characters (CR, LF, ...) are refused in URLs, ``callbackHost`` and variables, so nothing a
  client sends can add headers to the callback request.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ossemu.emulator.protocol.errors import BadRequest, invalid_argument

# OSS error-centre codes for the callback cases that have their own page (0007-000000NN).
EC_BASE64 = "0007-00000002"
EC_BAD_URL = "0007-00000004"
EC_TOO_MANY_URLS = "0007-00000005"
EC_EMPTY_BODY = "0007-00000011"
EC_TOO_LONG = "0007-00000101"

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
MAX_ENCODED_BYTES = 5 * 1024
MAX_URLS = 5

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class CallbackSpec:
    """A validated callback configuration: where to POST and what body template to render."""

    urls: tuple[str, ...]
    host: str | None
    body: str
    body_type: str
    sni: bool
    variables: Mapping[str, str]


def parse_callback(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    *,
    strict_urls: bool = False,
    form_variables: Mapping[str, str] | None = None,
) -> CallbackSpec | None:
    """The request's callback, or None when it has none; raises ``BadRequest`` when invalid.

    ``headers`` have lower-cased names; ``query`` is percent-decoded. PostObject passes its
    ``callback``/``callback-var`` form fields as ``query`` and its ``x:*`` fields as
    ``form_variables``, which win over callback-var.
    """
    raw = _pick(headers, query, "x-oss-callback", "callback")
    if raw is None:
        return None
    config = _decode_json(raw, "callback")
    url_field = config.get("callbackUrl")
    if url_field is None or url_field == "":
        return None
    urls = _parse_urls(url_field, strict_urls)
    raw_vars = _pick(headers, query, "x-oss-callback-var", "callback-var")
    return CallbackSpec(
        urls=urls,
        host=_parse_host(config.get("callbackHost")),
        body=_parse_body(config),
        body_type=_parse_body_type(config.get("callbackBodyType")),
        sni=_parse_sni(config),
        variables=_parse_variables(raw_vars, form_variables or {}),
    )


def _pick(
    headers: Mapping[str, str], query: Mapping[str, str], header: str, param: str
) -> str | None:
    in_header = headers.get(header) or None
    in_query = query.get(param) or None
    if in_header is not None and in_query is not None:
        raise invalid_argument(
            f"The {param} is given both as header {header} and as query parameter {param}; "
            "send it in one place only.",
            param,
        )
    return in_header if in_header is not None else in_query


def _decode_json(raw: str, name: str) -> dict[str, Any]:
    size = len(raw.encode("utf-8", "replace"))
    if size > MAX_ENCODED_BYTES:
        raise invalid_argument(
            f"The {name} is {size} bytes long; OSS allows at most {MAX_ENCODED_BYTES} (5 KB).",
            name,
            ec=EC_TOO_LONG,
        )
    if not raw.isascii() or not _BASE64.fullmatch(raw) or len(raw) % 4:
        raise invalid_argument(_base64_message(raw, name), name, _xml_safe(raw), ec=EC_BASE64)
    try:
        decoded = base64.b64decode(raw)
    except binascii.Error:
        raise invalid_argument(
            _base64_message(raw, name), name, _xml_safe(raw), ec=EC_BASE64
        ) from None
    text = decoded.decode("utf-8", "replace")
    not_json = invalid_argument(
        f"The {name.replace('-', ' ')} configuration is not json format.", name, _xml_safe(text)
    )
    try:
        value = json.loads(decoded.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise not_json from None
    if not isinstance(value, dict):
        raise not_json
    return value


def _base64_message(raw: str, name: str) -> str:
    message = f"The {name} is not valid base64: OSS expects the standard alphabet with = padding."
    if "-" in raw or "_" in raw:
        message += " URL-safe base64 ('-', '_') is not accepted."
    if " " in raw:
        message += " A space often means a '+' was not percent-encoded as %2B in the URL."
    elif len(raw) % 4 and _BASE64.fullmatch(raw):
        message += " Its length is not a multiple of 4: is the '=' padding missing?"
    return message


def _reject_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _parse_urls(value: object, strict: bool) -> tuple[str, ...]:
    if not isinstance(value, str):
        raise invalid_argument(
            "The callbackUrl must be a string of 1-5 URLs separated by ';'.",
            "callbackUrl",
            _xml_safe(json.dumps(value)),
        )
    urls = [url.strip(" ") for url in value.split(";")]
    if len(urls) > MAX_URLS:
        raise invalid_argument(
            f"The callbackUrl has {len(urls)} URLs; at most {MAX_URLS} are allowed.",
            "callbackUrl",
            _xml_safe(value),
            ec=EC_TOO_MANY_URLS,
        )
    if "" in urls:
        raise invalid_argument(
            "The callbackUrl has an empty entry: separate the URLs with single ';' and "
            "do not end with ';'.",
            "callbackUrl",
            _xml_safe(value),
        )
    return tuple(_normalise_url(url, strict) for url in urls)


def _normalise_url(url: str, strict: bool) -> str:
    def bad(reason: str) -> BadRequest:
        return invalid_argument(
            f"The callbackUrl {url!r} is invalid: {reason}",
            "callbackUrl",
            _xml_safe(url),
            ec=EC_BAD_URL,
        )

    if _CONTROL_OR_SPACE.search(url):
        raise bad("it contains a space or control character.")
    if not url.isascii():
        raise bad("non-ASCII characters must be percent-encoded.")
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "http", url
    if scheme.lower() not in ("http", "https"):
        raise bad(f"the scheme must be http or https, not {scheme!r}.")
    normalised = f"{scheme.lower()}://{rest}"
    try:
        parts = urlsplit(normalised)
        port = parts.port
    except ValueError:
        raise bad("the host or port is malformed; the port must be an integer 1-65535.") from None
    if "@" in parts.netloc:
        raise bad("user credentials are not allowed in the URL.")
    if port == 0 or parts.netloc.endswith(":"):
        raise bad("the port must be an integer 1-65535.")
    reason = _host_problem(parts.hostname or "", strict)
    if reason:
        raise bad(reason)
    return normalised


def _host_problem(host: str, strict: bool) -> str | None:
    """Why ``host`` cannot be called back, or None when it can."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is None:
        if not host:
            return "the host is missing."
        if (
            len(host) > 253
            or not _HOSTNAME.fullmatch(host)
            or host.rstrip(".").split(".")[-1].isdigit()
        ):
            return f"{host!r} is not a valid domain name or IP address."
        return None
    if strict and ip.version == 6:
        return "OSS does not call back IPv6 addresses."
    if strict and (not ip.is_global or ip.is_multicast):
        return f"{ip} is a private, loopback or link-local address, which OSS does not call back."
    return None


def _parse_host(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_argument(
            "The callbackHost must be a string: a domain name or IP address.",
            "callbackHost",
            _xml_safe(json.dumps(value)),
        )
    reason = None
    if _CONTROL_OR_SPACE.search(value) or not value.isascii():
        reason = "it contains a space, control or non-ASCII character."
    else:
        try:
            parts = urlsplit(f"//{value}")
            parts.port  # noqa: B018 - parsing the port is the validation
        except ValueError:
            reason = "the port must be an integer 1-65535."
        else:
            if parts.netloc != value or "@" in value or value.endswith(":"):
                reason = "it must be a domain name or IP address, optionally with :port."
            else:
                reason = _host_problem(parts.hostname or "", strict=False)
    if reason:
        raise invalid_argument(
            f"The callbackHost {value!r} is invalid: {reason}", "callbackHost", _xml_safe(value)
        )
    return value


def _parse_body(config: Mapping[str, object]) -> str:
    if "callbackBody" not in config:
        raise invalid_argument(
            "The callbackBody is missing: it is the template of the body OSS posts to callbackUrl.",
            "callbackBody",
        )
    body = config["callbackBody"]
    if not isinstance(body, str):
        raise invalid_argument(
            "The callbackBody must be a string.", "callbackBody", _xml_safe(json.dumps(body))
        )
    if not body:
        raise invalid_argument(
            "The callbackBody must not be empty.", "callbackBody", "", ec=EC_EMPTY_BODY
        )
    _require_utf8(body, "callbackBody")
    position = 0
    while (start := body.find("${", position)) >= 0:
        end = body.find("}", start)
        if end < 0:
            raise invalid_argument(
                f"The callbackBody has an unterminated variable at character {start}: "
                "write ${name}.",
                "callbackBody",
                _xml_safe(body),
            )
        if end == start + 2:
            raise invalid_argument(
                f"The callbackBody has an empty variable ${{}} at character {start}.",
                "callbackBody",
                _xml_safe(body),
            )
        position = end + 1
    return body


def _parse_body_type(value: object) -> str:
    if value is None:
        return FORM_TYPE
    if isinstance(value, str) and value.strip().lower() in (FORM_TYPE, JSON_TYPE):
        return value.strip().lower()
    raise invalid_argument(
        f"The callbackBodyType {value!r} is not supported: use {FORM_TYPE} or {JSON_TYPE}.",
        "callbackBodyType",
        _xml_safe(value if isinstance(value, str) else json.dumps(value)),
    )


def _parse_sni(config: Mapping[str, object]) -> bool:
    value = config.get("callbackSNI", False)
    if type(value) is not bool:
        # OSS's exact words: a string "true" is refused, only JSON true/false pass.
        raise invalid_argument(
            "The callback sni is invalid", "callbackSNI", _xml_safe(json.dumps(value))
        )
    return value


def _parse_variables(raw: str | None, form_variables: Mapping[str, str]) -> Mapping[str, str]:
    variables = _decode_json(raw, "callback-var") if raw is not None else {}
    # OSS skips keys without the ``x:`` prefix (no ``${...}`` can name them): oss2's presigned
    # callback test, run against OSS, sends the callback document itself as callback-var and
    # gets the callback (203 there).
    variables = {k: v for k, v in variables.items() if k.startswith("x:")}
    variables.update(form_variables)
    for key, value in variables.items():
        if len(key) == 2:
            raise invalid_argument(
                f"The callback-var key {key!r} must start with 'x:' followed by a name, "
                "like x:my_var.",
                "callback-var",
                _xml_safe(key),
            )
        if key != key.lower():
            raise invalid_argument(
                f"The callback-var key {key!r} must be lowercase.", "callback-var", _xml_safe(key)
            )
        if _CONTROL_OR_SPACE.search(key) or "}" in key:
            raise invalid_argument(
                f"The callback-var key {key!r} has a space, control character or '}}', "
                "so ${...} cannot name it.",
                "callback-var",
                _xml_safe(key),
            )
        if not isinstance(value, str):
            raise invalid_argument(
                f"The callback-var value of {key} must be a JSON string, not {json.dumps(value)}.",
                "callback-var",
                _xml_safe(json.dumps(value)),
            )
        if _CONTROL.search(value):
            raise invalid_argument(
                f"The callback-var value of {key} contains a control character (CR, LF, ...).",
                "callback-var",
                _xml_safe(value),
            )
        _require_utf8(key + value, "callback-var")
    return MappingProxyType(dict(variables))


def _require_utf8(text: str, name: str) -> None:
    """JSON escapes can smuggle lone surrogates, which no HTTP body can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_argument(
            f"The {name} contains an invalid \\u escape (a lone surrogate).", name
        ) from None


def _xml_safe(text: str) -> str:
    """ArgumentValue goes into the XML error body; characters XML 1.0 forbids become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
