"""Bucket CORS: the ``CORSConfiguration`` XML, rule matching, and the headers OSS answers with.

Pure functions (no Flask, no disk), after docs/direct-upload.md section 2: rules are tried in
document order and the first whose origin, method and (for a preflight) every requested header
match wins. Origins and headers are globs with at most one ``*``; header names compare
case-insensitively. A bare ``*`` origin is answered ``*``, any other match echoes the ``Origin``.
``ResponseVary`` puts ``Vary: Origin`` on every response of the bucket.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from xml.etree.ElementTree import Element

from .errors import BadRequest, Forbidden, invalid_argument
from .xml import Node, parse, render

METHODS = ("GET", "PUT", "DELETE", "POST", "HEAD")
MAX_RULES = 10
MAX_BODY = 16 * 1024
#: OSS's message, typos included (E403; CORSERR).
FORBIDDEN = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are "
    "not whitelisted by the resource's CORS spec."
)
_BAD_EXPOSE = set("*<>&'\"")


@dataclass(frozen=True)
class CorsRule:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None


@dataclass(frozen=True)
class CorsConfig:
    rules: tuple[CorsRule, ...]
    response_vary: bool = False
    #: Whether the document said ``ResponseVary`` at all (GetBucketCors echoes it only then).
    vary_given: bool = field(default=False, compare=False)


#: What ``ossemu dev`` gives its buckets, so a page on any local port works the first time.
LOCAL_DEV = CorsConfig(
    (
        CorsRule(
            origins=("http://localhost:*", "http://127.0.0.1:*"),
            methods=METHODS,
            headers=("*",),
            expose=("ETag", "x-oss-request-id", "x-oss-hash-crc64ecma"),
            max_age=600,
        ),
    )
)


def parse_cors(body: bytes) -> CorsConfig:
    """A PutBucketCors body -> :class:`CorsConfig`; OSS's errors for what it refuses."""
    if len(body) > MAX_BODY:
        raise invalid_argument(f"The CORS configuration is larger than {MAX_BODY} bytes.")
    root = parse(body, "CORSConfiguration")
    rules = tuple(_rule(element) for element in root.findall("CORSRule"))
    if not rules:
        raise BadRequest("MalformedXML", ec="0034-00000002")
    if len(rules) > MAX_RULES:
        raise invalid_argument(f"A bucket has at most {MAX_RULES} CORS rules.", "CORSRule")
    vary = root.findtext("ResponseVary")
    if vary is not None and vary.strip() not in ("true", "false"):
        raise invalid_argument(
            "ResponseVary must be true or false.", "ResponseVary", vary, ec="0034-00000004"
        )
    return CorsConfig(rules, (vary or "").strip() == "true", vary is not None)


def _rule(element: Element) -> CorsRule:
    def texts(tag: str) -> tuple[str, ...]:
        return tuple((e.text or "").strip() for e in element.findall(tag))

    origins, methods = texts("AllowedOrigin"), texts("AllowedMethod")
    if not origins or not methods:
        raise BadRequest("MalformedXML")
    for method in methods:
        if method not in METHODS:
            raise invalid_argument(
                f"Unsupported method {method}.", "AllowedMethod", method, ec="0034-00000011"
            )
    headers = tuple(h.lower() for h in texts("AllowedHeader"))
    for name, values in (("AllowedOrigin", origins), ("AllowedHeader", headers)):
        for value in values:
            if value.count("*") > 1:
                raise invalid_argument(f"{name} may contain at most one '*'.", name, value)
    expose = texts("ExposeHeader")
    for value in expose:
        if _BAD_EXPOSE.intersection(value):
            raise invalid_argument(
                "ExposeHeader cannot contain *, <, >, &, ' or \".",
                "ExposeHeader",
                value,
                ec="0034-00000013",
            )
    max_age_text = element.findtext("MaxAgeSeconds")
    max_age = None
    if max_age_text is not None:
        if not max_age_text.strip().isdigit():
            raise invalid_argument("MaxAgeSeconds must be an integer.", "MaxAgeSeconds")
        max_age = int(max_age_text.strip())
    return CorsRule(origins, methods, headers, expose, max_age)


def to_xml(config: CorsConfig) -> bytes:
    """GetBucketCors's document: unset elements are left out, as OSS does."""
    rules: list[Node] = []
    for rule in config.rules:
        children: list[Node] = [("AllowedOrigin", o) for o in rule.origins]
        children += [("AllowedMethod", m) for m in rule.methods]
        children += [("AllowedHeader", h) for h in rule.headers]
        children += [("ExposeHeader", h) for h in rule.expose]
        children.append(("MaxAgeSeconds", rule.max_age))
        rules.append(("CORSRule", children))
    vary = ("ResponseVary", config.response_vary if config.vary_given else None)
    return render("CORSConfiguration", [*rules, vary])


def dumps(config: CorsConfig) -> str:
    """The stored form (a bucket setting): JSON, cheaper to read per request than XML."""
    return json.dumps(asdict(config))


def loads(text: str) -> CorsConfig:
    data = json.loads(text)
    rules = tuple(
        CorsRule(
            tuple(r["origins"]),
            tuple(r["methods"]),
            tuple(r["headers"]),
            tuple(r["expose"]),
            r["max_age"],
        )
        for r in data["rules"]
    )
    return CorsConfig(rules, data["response_vary"], data["vary_given"])


def glob_match(pattern: str, value: str, *, fold: bool = False) -> bool:
    """``pattern`` with at most one ``*`` (any run of characters, including none)."""
    if fold:
        pattern, value = pattern.lower(), value.lower()
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == value
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def match(
    config: CorsConfig, origin: str, method: str, request_headers: list[str] | None = None
) -> CorsRule | None:
    """The first rule allowing ``origin`` to send ``method`` (and, for a preflight, every one
    of ``request_headers``)."""
    for rule in config.rules:
        if method not in rule.methods:
            continue
        if not any(glob_match(o, origin) for o in rule.origins):
            continue
        if request_headers and not all(
            any(glob_match(h, want, fold=True) for h in rule.headers) for want in request_headers
        ):
            continue
        return rule
    return None


def requested_headers(value: str | None) -> list[str]:
    """``Access-Control-Request-Headers``: comma-separated, trimmed, lower-cased."""
    return [h.strip().lower() for h in (value or "").split(",") if h.strip()]


def preflight(
    config: CorsConfig | None, origin: str | None, method: str | None, headers: str | None
) -> dict[str, str]:
    """The headers of a 200 answer to ``OPTIONS``; ``AccessForbidden`` when no rule allows it."""
    wanted = requested_headers(headers)
    rule = None
    if config is not None and origin and method:
        rule = match(config, origin, method, wanted)
    if rule is None or config is None or origin is None:
        raise Forbidden("AccessForbidden", FORBIDDEN)
    out = _allow(rule, origin, config)
    if wanted:
        out["Access-Control-Allow-Headers"] = ", ".join(wanted)
    return out


def actual(config: CorsConfig | None, origin: str | None, method: str) -> dict[str, str]:
    """CORS headers of an actual (non-preflight) response: the rule's when one matches, plus
    ``Vary: Origin`` whenever ``ResponseVary`` is on; empty otherwise."""
    if config is None:
        return {}
    rule = match(config, origin, method) if origin else None
    out = _allow(rule, origin or "", config) if rule is not None else {}
    if config.response_vary:
        out["Vary"] = "Origin"
    return out


def _allow(rule: CorsRule, origin: str, config: CorsConfig) -> dict[str, str]:
    out = {
        "Access-Control-Allow-Origin": "*" if "*" in rule.origins else origin,
        "Access-Control-Allow-Methods": ", ".join(rule.methods),
    }
    if rule.expose:
        out["Access-Control-Expose-Headers"] = ", ".join(rule.expose)
    if rule.max_age is not None:
        out["Access-Control-Max-Age"] = str(rule.max_age)
    if config.response_vary:
        out["Vary"] = "Origin"
    return out
