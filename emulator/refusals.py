"""Requests the HTTP server refuses before the app sees them, answered as OSS errors.

A request line or header the parser cannot read, or a head past the server's limits, never
reaches the app, so gunicorn and http.server answered with their own HTML pages: no
``x-oss-request-id``, no ``Server: AliyunOSS``, and a body no OSS SDK can parse (oss2 raised a
``ServerError`` with an empty code). Both servers now write the XML OSS's front end gives for a
request it cannot understand, and close the connection, since what follows the bad bytes cannot
be framed.
"""

from __future__ import annotations

import time
from http import HTTPStatus

from .protocol.errors import OssError
from .protocol.http import http_date, new_request_id

#: What each HTTP status a server's parser picks becomes; anything else is BadRequest.
_CODES = {500: "InternalError", 501: "NotImplemented"}


def refusal(status: int, host_id: str = "localhost") -> bytes:
    """The whole answer (status line, headers, XML body) for a request refused with ``status``."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        status, reason = 400, "Bad Request"
    error = OssError(_CODES.get(status, "BadRequest"))
    request_id = new_request_id()
    body = error.to_xml(request_id, host_id)
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Server: AliyunOSS",
        f"Date: {http_date(time.time())}",
        "Connection: close",
        "Content-Type: application/xml",
        f"Content-Length: {len(body)}",
        f"x-oss-request-id: {request_id}",
        *(f"{name}: {value}" for name, value in error.headers(request_id, host_id).items()),
    ]
    return "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body
