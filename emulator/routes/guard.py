"""Who may drive the control API (``/_ossemu/...``): local tools, never a web page or a callback.

The control API carries no signature (test tools and app servers use it anonymously), so three
other doors are shut instead:

- **Web pages.** A browser announces a cross-site request (``Sec-Fetch-Site: cross-site``, an
  ``Origin`` that is not the emulator's own), and an HTML form can only send form content types;
  any of these on a state-changing call is refused. A DNS-rebinding page reaches us under its own
  host name, so the ``Host`` must be one the emulator serves: an IP literal, ``localhost``, the
  virtual-hosted ``--domain`` and its subdomains, the ``--public-url`` host, or one allowed with
  ``--allow-host``.
- **Callbacks.** Every OSS callback request carries ``x-oss-pub-key-url``; the uploader cannot
  remove it, whatever the URL's spelling or the host it resolves to, so the marker is what is
  refused (an app server never sends it).

No Flask here: :func:`refusal` is a pure function of the request's method and headers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

#: What an HTML form may send without a CORS preflight; no control call takes them.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
CALLBACK_MARKER = "x-oss-pub-key-url"
_LOCAL_NAMES = ("localhost",)


def served_hosts(domain: str, public_url: str | None, extra: Iterable[str]) -> frozenset[str]:
    """The host names (besides IP literals) the emulator answers to, lower-case."""
    names = {*_LOCAL_NAMES, *(name.lower().rstrip(".") for name in extra)}
    if domain:
        names.add(domain.lower())
    if public_url:
        public = urlsplit(public_url if "//" in public_url else f"//{public_url}").hostname
        if public:
            names.add(public.lower())
    return frozenset(names)


def host_is_served(host: str, names: frozenset[str], domain: str) -> bool:
    """``host`` (no port) is an IP literal, one of ``names`` or a subdomain of ``domain``."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    return host in names or bool(domain) and host.endswith("." + domain.lower())


def refusal(
    method: str, headers: Mapping[str, str], names: frozenset[str], domain: str
) -> str | None:
    """Why this control request is refused, or None when it may go ahead."""
    if CALLBACK_MARKER in headers:
        return "an upload callback may not call the control API"
    host, port = _host_and_port(headers.get("host", ""))
    if host is None or not host_is_served(host, names, domain):
        return (
            f"Host {headers.get('host', '')!r} is not a name this emulator serves "
            "(allow it with --allow-host)"
        )
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return "cross-site requests may not use the control API"
    origin = headers.get("origin")
    if origin is not None and not _same_origin(origin, port, names, domain):
        return f"requests from the web page at {origin!r} may not use the control API"
    if method not in ("GET", "HEAD", "OPTIONS"):
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in FORM_TYPES:
            return f"a {content_type} body is a web form's, and no control call takes one"
    return None


def _host_and_port(value: str) -> tuple[str | None, int | None]:
    try:
        parts = urlsplit(f"//{value.strip()}")
        return parts.hostname, parts.port
    except ValueError:
        return None, None


def _same_origin(origin: str, port: int | None, names: frozenset[str], domain: str) -> bool:
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False  # "null": a sandboxed frame or a file
    return host_is_served(parts.hostname, names, domain) and origin_port == (port or 80)
