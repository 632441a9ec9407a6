"""The OSS API as a WSGI app of its own, in front of Flask, which serves the rest.

Every OSS request goes to one handler (:func:`routes.handle`), so Flask's request machinery
(a request context pushed and popped, the URL map matched, signals, after-request hooks) only
found that handler again, for more than a third of a 4 KiB GET's CPU in the app
(``bench/analysis.md``). Here an OSS request runs with no Flask context at all (``services()``
finds the app's parts in ``SERVING``; nothing on this lane asks for ``current_app``), and the
two steps Flask's hooks took (CORS headers and closing after a refused body) are called
directly. ``/_ossemu/`` (control API, inspector, on a bucket's virtual host too), methods OSS
does not have, and paths the OSS rules never matched still go to Flask, so they answer as
before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response

from .. import expect_continue
from ..access_log import StartResponse, WSGIApp
from ..services import EXTENSION, SERVING
from . import OSS_METHODS, cors, handle
from .responses import render_exception

_FLASK_ONLY = "/_ossemu"


class OssApi:
    """``app.wsgi_app = OssApi(app, app.wsgi_app, errors.append)``."""

    def __init__(self, app: Flask, flask: WSGIApp, unexpected: Callable[[Exception], None]):
        self.app = app
        self.flask = flask
        self.unexpected = unexpected
        self.services = app.extensions[EXTENSION]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if (
            environ.get("REQUEST_METHOD") not in OSS_METHODS
            or path.startswith(_FLASK_ONLY)
            or path.startswith("//")  # no OSS rule matches it: Flask's 404, as before
        ):
            return self.flask(environ, start_response)
        serving = SERVING.set(self.services)
        try:
            request = self.app.request_class(environ)
            try:
                response = handle(request)
            except Exception as error:  # noqa: BLE001 - every error becomes an OSS answer
                response = render_exception(error, environ, self.unexpected)
            cors.add_cors_headers(response, environ)
            close_if_body_refused(response, environ)
            return send(response, environ, start_response)
        finally:
            SERVING.reset(serving)


#: Headers werkzeug rewrites on the way out (made absolute or IRI-quoted): those answers take
#: its own path.
_REWRITTEN = frozenset(("location", "content-location"))


def send(response: Response, environ: dict[str, Any], start_response: StartResponse) -> Any:
    """``response(environ, start_response)``, without werkzeug's copy of every header, for the
    answers most requests get: a body in memory, no header to rewrite, a status that has a
    body. Anything else goes through werkzeug unchanged."""
    status = response.status_code
    if (
        response.direct_passthrough
        or not response.is_sequence
        or status < 200
        or status
        in (
            204,
            304,
        )
    ):
        return response(environ, start_response)
    headers = response.headers.to_wsgi_list()
    sized = False
    for name, _ in headers:
        lowered = name.lower()
        if lowered in _REWRITTEN:
            return response(environ, start_response)
        sized = sized or lowered == "content-length"
    if not sized:  # what werkzeug would add: the length of the body in memory
        headers.append(("Content-Length", str(sum(len(chunk) for chunk in response.response))))
    start_response(response.status, headers)
    body = () if environ.get("REQUEST_METHOD") == "HEAD" else response.response
    response.close()
    return body


def close_if_body_refused(response: Response, environ: dict[str, Any]) -> Response:
    """A body refused with ``Expect: 100-continue`` leaves the connection unusable: say so."""
    if expect_continue.must_close(environ):
        response.headers["Connection"] = "close"
    return response
