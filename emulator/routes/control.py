"""The emulator's own control API under ``/_ossemu/`` (not OSS; never signature-checked).

Anyone who can reach the port can read the callback journal, add faults and reset the data:
bind to loopback (the default) unless that is what you want.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, Response, jsonify, request

from ..services import services


def register(app: Flask) -> None:
    app.add_url_rule("/_ossemu/health", view_func=health)
    app.add_url_rule("/_ossemu/callback-public-key.pem", view_func=public_key)
    app.add_url_rule("/_ossemu/callbacks", view_func=callbacks, methods=["GET", "DELETE"])
    app.add_url_rule("/_ossemu/faults", view_func=faults, methods=["GET", "POST", "DELETE"])
    app.add_url_rule("/_ossemu/reset", view_func=reset, methods=["POST"])
    app.add_url_rule("/_ossemu/clock", view_func=clock, methods=["GET", "POST", "DELETE"])


def health() -> Response:
    return jsonify(status="ok")


def public_key() -> Response:
    """The PEM that verifies this emulator's callback signatures (``x-oss-pub-key-url``)."""
    return Response(services().public_key_pem, content_type="application/x-pem-file")


def callbacks() -> Response:
    """The callback journal, oldest first; ``?bucket=&key=`` filter; DELETE clears it."""
    journal = services().journal
    if request.method == "DELETE":
        journal.clear()
        return Response(status=204)
    return jsonify(journal.entries(bucket=request.args.get("bucket"), key=request.args.get("key")))


def faults() -> Response:
    """List (GET), add (POST, JSON body of Fault fields) or clear (DELETE) fault rules."""
    injector = services().faults
    if request.method == "DELETE":
        injector.clear()
        return Response(status=204)
    if request.method == "POST":
        fields = request.get_json(silent=True)
        if not isinstance(fields, dict):
            return _bad("body must be a JSON object of fault fields")
        try:
            fault = injector.add(**fields)
        except (TypeError, ValueError) as e:
            return _bad(str(e))
        return jsonify(fault.to_dict()), 201  # type: ignore[return-value]
    return jsonify(injector.list())


def clock() -> Response:
    """The emulator's "now" (GET); move it (POST ``{"advance": s}`` or ``{"offset": s}``), or
    set it back to wall time (DELETE). Every expiry check and timestamp follows it."""
    shared = services().clock
    if request.method == "DELETE":
        shared.set_offset(0)
    elif request.method == "POST":
        fields = request.get_json(silent=True)
        if not isinstance(fields, dict) or len(fields.keys() & {"advance", "offset"}) != 1:
            return _bad('body must be a JSON object with one of "advance" or "offset" (seconds)')
        ((name, value),) = ((k, fields[k]) for k in ("advance", "offset") if k in fields)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _bad(f"{name} must be a number of seconds")
        try:
            shared.advance(value) if name == "advance" else shared.set_offset(value)
        except ValueError as e:
            return _bad(str(e))
    return jsonify(_clock_state(shared.now(), shared.offset))


def _clock_state(now: float, offset: float) -> dict[str, object]:
    iso = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"now": iso, "epoch": now, "offset": offset}


def reset() -> Response:
    """Wipe buckets, objects, uploads, the journal and the faults, and set the clock back."""
    services().reset()
    return Response(status=204)


def _bad(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 400
    return response
