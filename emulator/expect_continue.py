"""``Expect: 100-continue`` granted only once the request is authenticated and routed.

Werkzeug and gunicorn both answer ``100 Continue`` as soon as they read the request head, so a
client with a bad signature sent its whole body before its 403. Both servers are set up
(``server.py``) to leave the interim answer to us instead: they :func:`defer` it into the WSGI
environ, and the first read of the body - which handlers do only after the signature and the
route are checked - :func:`grant` s it. A request that is answered without the grant never gets
its body sent, so its connection closes after the answer (:func:`must_close`).

A leaf module: no Flask, no routes; the server, the body reader and the app use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_KEY = "ossemu.continue"
INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n"


def asked(value: str | None) -> bool:
    """The ``Expect`` header asks for ``100 Continue``."""
    return (value or "").strip(" \t").lower() == "100-continue"


def defer(environ: dict[str, Any], send: Callable[[], object]) -> None:
    """Keep the interim answer until the body is wanted."""
    environ[_KEY] = send


def grant(environ: dict[str, Any]) -> None:
    """Send the deferred ``100 Continue`` (once): the request may now send its body."""
    send = environ.pop(_KEY, None)
    if send is not None:
        environ[_KEY + ".granted"] = True
        send()


def must_close(environ: dict[str, Any]) -> bool:
    """The client waits for a 100 that never came: its body will not follow, so the
    connection cannot carry another request."""
    return _KEY in environ
