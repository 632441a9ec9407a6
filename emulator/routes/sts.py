"""STS on the OSS endpoint: AssumeRole and GetCallerIdentity, HTTP only.

The STS SDKs take an endpoint, so they can be pointed at the emulator itself. A request is STS's,
not OSS's, when it carries STS's own markers on ``/``: the ``x-acs-action`` header (ACS3, the
tea SDKs) or ``Action`` + ``Version`` parameters in the query or an urlencoded form (RPC). The
work is :func:`emulator.iam.sts.serve`; this module decodes and renders JSON.
"""

from __future__ import annotations

import hashlib
import json
import time

from flask import Request, Response

from ..iam.sts import StsCall, StsError, new_request_id, serve
from ..services import Services

_FORM = "application/x-www-form-urlencoded"
#: An RPC body is a handful of parameters; anything bigger is not an STS call.
MAX_BODY = 64 * 1024


def is_sts_request(request: Request) -> bool:
    """STS's markers on ``/``; OSS requests (PostObject's multipart form included) have none."""
    if request.environ.get("PATH_INFO", "").strip("/"):  # ``request.path != "/"``, cheaper
        return False
    if request.headers.get("x-acs-action"):
        return True
    if "Action" in request.args and "Version" in request.args:
        return True
    return (
        request.method == "POST"
        and request.mimetype == _FORM
        and (request.content_length or 0) <= MAX_BODY
        and "Action" in request.form
        and "Version" in request.form
    )


def handle(svc: Services, request: Request) -> Response:
    """AssumeRole / GetCallerIdentity: https://help.aliyun.com/en/ram/developer-reference/api-sts-2015-04-01-assumerole"""
    body = request.get_data(cache=True) if (request.content_length or 0) <= MAX_BODY else b""
    form = list(request.form.items(multi=True)) if request.mimetype == _FORM else []
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    call = StsCall(
        request.method,
        request.path,
        list(request.args.items(multi=True)),
        form,
        headers,
        hashlib.sha256(body).hexdigest(),
    )
    try:
        answer = serve(call, svc.credentials, wall=time.time(), check_signature=svc.config.auth)
        return _json(200, answer)
    except StsError as e:
        return _json(e.status, e.to_json(new_request_id()))


def _json(status: int, document: object) -> Response:
    return Response(json.dumps(document), status=status, mimetype="application/json")
