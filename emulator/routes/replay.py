"""The journal as the inspector reads it (newest first, with signature checks), and the
control endpoints that send a callback again (replay) or for an existing object (trigger).

Each delivery they make is journalled like an upload's, and answered with its new entry.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..access_log import request_id_of
from ..callbacks import CallbackOutcome
from ..callbacks import replay as resend
from ..protocol.errors import OssError
from ..services import services
from .browse import json_errors, page_size, problem
from .parsing import OssRequest
from .upload_callback import callback_context, public_key_url

OUTCOMES = ("ok", "failed")


@json_errors
def newest() -> Response:
    """A page of the journal, newest first: ``?bucket=&key=&outcome=ok|failed&before=ID``.

    ``X-Ossemu-Next-Before`` holds the ``before`` for the next (older) page while more may
    follow; ``?verify=1`` adds each attempt's signature check.
    """
    args = request.args
    outcome = args.get("outcome") or None
    before = args.get("before", "")
    if outcome not in (None, *OUTCOMES) or not (before == "" or before.isdigit()):
        return problem(f"outcome must be one of {OUTCOMES} and before an entry id")
    limit = page_size(50)
    svc = services()
    rows = svc.journal.newest(
        args.get("bucket") or None,
        args.get("key") or None,
        outcome,
        before=int(before) if before else None,
        limit=limit,
    )
    verify = args.get("verify") == "1"
    response = jsonify([_shown(entry_id, entry, verify) for entry_id, entry in rows])
    if len(rows) == limit:
        response.headers["X-Ossemu-Next-Before"] = str(rows[-1][0])
    return response


def _shown(entry_id: int, entry: dict[str, Any], verify: bool) -> dict[str, Any]:
    if verify:
        key = services().callback_delivery.public_key
        for attempt in entry.get("attempts") or []:
            attempt["signature"] = resend.verify_attempt(key, attempt)
    return {"id": entry_id, **entry}


@json_errors
def replay(entry_id: int) -> Response:
    """POST ``{"url": ...}`` (optional): send entry ``entry_id``'s body again, signed afresh."""
    fields = request.get_json(silent=True) or {}
    url = fields.get("url") if isinstance(fields, dict) else None
    if url is not None and not isinstance(url, str):
        return problem("url must be a string")
    svc = services()
    entry = svc.journal.get(entry_id)
    if entry is None:
        return problem(f"no journal entry {entry_id}", 404, "NoSuchEntry")
    outcome = resend.replay(
        svc.callback_delivery,
        entry_id,
        entry,
        url=url or None,
        public_key_url=public_key_url(_oss_request()),
        strict=svc.config.strict_callback_urls,
    )
    return _delivered(outcome)


@json_errors
def trigger() -> Response:
    """POST ``{"bucket", "key", "callback": {callbackUrl, callbackBody...}, "variables":
    {"x:name": value}}``: deliver that callback for the stored object, as after its upload."""
    fields = request.get_json(silent=True)
    if not isinstance(fields, dict) or not isinstance(fields.get("callback"), dict):
        return problem('body must be a JSON object with "bucket", "key" and a "callback" object')
    bucket, key = fields.get("bucket"), fields.get("key")
    variables = fields.get("variables") or {}
    if not isinstance(bucket, str) or not isinstance(key, str) or not isinstance(variables, dict):
        return problem('"bucket" and "key" must be strings and "variables" an object')
    svc = services()
    spec = resend.spec_from(fields["callback"], variables, strict=svc.config.strict_callback_urls)
    meta = svc.storage.head_object(bucket, key)
    req = _oss_request()
    outcome = resend.trigger(
        svc.callback_delivery,
        spec,
        callback_context(req, meta, "Trigger"),
        public_key_url=public_key_url(req),
    )
    return _delivered(outcome)


def _oss_request() -> OssRequest:
    return OssRequest.from_flask(request, services().config.domain, request_id_of(request.environ))


def _delivered(outcome: CallbackOutcome) -> Response:
    """201 with the new journal entry's id and how the delivery ended."""
    if outcome.journal_id is None:
        raise OssError("InternalError", "the delivery was made but could not be journalled")
    response = jsonify(
        id=outcome.journal_id,
        outcome="ok" if outcome.ok else "failed",
        status=outcome.status,
        message=outcome.message,
    )
    response.status_code = 201
    return response
