"""The emulator's own control API under ``/_ossemu/`` (not OSS; never signature-checked).

Anyone who can reach the port can read the callback journal, add faults and reset the data:
bind to loopback (the default) unless that is what you want. Web pages and upload callbacks
cannot: :mod:`.guard` refuses them on every endpoint but the health check and the public key.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

from .. import expect_continue, inspector
from ..services import services
from . import browse, replay
from .guard import refusal, served_hosts

MAX_PAGE = 1000


def register(app: Flask, oss: Callable[[str], Response]) -> None:
    """The control routes; on a bucket's virtual host the same paths are that bucket's keys,
    so there they go to ``oss`` (the OSS dispatcher) instead."""
    views: list[tuple[str, Callable[..., Response], list[str]]] = [
        ("health", health, ["GET"]),
        ("callback-public-key.pem", public_key, ["GET"]),
        ("callbacks", _guarded(callbacks), ["GET", "DELETE"]),
        ("callbacks/<int:entry_id>/replay", _guarded(replay.replay), ["POST"]),
        ("callbacks/trigger", _guarded(replay.trigger), ["POST"]),
        ("faults", _guarded(faults), ["GET", "POST", "DELETE"]),
        ("reset", _guarded(reset), ["POST"]),
        ("clock", _guarded(clock), ["GET", "POST", "DELETE"]),
        # The data as the inspector page and the CLI see it (storage directly, no signature).
        ("buckets", _guarded(browse.buckets), ["GET"]),
        ("buckets/<bucket>/objects", _guarded(browse.objects), ["GET"]),
        ("buckets/<bucket>/object", _guarded(browse.an_object), ["GET", "DELETE"]),
        ("buckets/<bucket>/uploads", _guarded(browse.uploads), ["GET"]),
        ("buckets/<bucket>/uploads/<upload_id>", _guarded(browse.abort_upload), ["DELETE"]),
    ]
    for name, view, methods in views:
        app.add_url_rule(
            f"/_ossemu/{name}", view_func=unless_virtual_host(view, oss), methods=methods
        )
    inspector.register(app, lambda view: unless_virtual_host(view, oss))


def unless_virtual_host(
    view: Callable[..., Response], oss: Callable[[str], Response]
) -> Callable[..., Response]:
    """``view``, except on a bucket's virtual host, where its path is a key of that bucket."""

    @functools.wraps(view)
    def routed(**kwargs: Any) -> Response:
        domain = services().config.domain
        try:
            host = urlsplit("//" + request.headers.get("Host", "")).hostname or ""
        except ValueError:
            host = ""
        if domain and host.endswith("." + domain):
            return oss(request.path.lstrip("/"))
        return view(**kwargs)

    return routed


def _guarded(view: Callable[..., Response]) -> Callable[..., Response]:
    """``view``, refused (403) to web pages, foreign Host names and upload callbacks."""

    @functools.wraps(view)
    def checked(**kwargs: Any) -> Response:
        config = services().config
        names = served_hosts(config.domain, config.public_url, config.allowed_hosts)
        headers = {name.lower(): value for name, value in request.headers.items()}
        why = refusal(request.method, headers, names, config.domain)
        if why is not None:
            response = jsonify(error=why)
            response.status_code = 403
            return response
        expect_continue.grant(request.environ)
        return view(**kwargs)

    return checked


def health() -> Response:
    return jsonify(status="ok")


def public_key() -> Response:
    """The PEM that verifies this emulator's callback signatures (``x-oss-pub-key-url``)."""
    return Response(services().public_key_pem, content_type="application/x-pem-file")


def callbacks() -> Response:
    """The callback journal, oldest first; ``?bucket=&key=`` filter; DELETE clears it.
    Each entry carries its ``id`` (what ``replay`` takes).

    ``?limit=N`` answers one page of at most N entries (at most 1000); when more may follow,
    ``X-Ossemu-Next-After`` holds the cursor to pass as ``?after=`` for the next one. Without
    ``limit`` the whole journal is streamed, a page at a time, so no request holds it all.
    """
    journal = services().journal
    if request.method == "DELETE":
        journal.clear()
        return Response(status=204)
    if request.args.get("order") == "newest":
        return replay.newest()
    bucket, key = request.args.get("bucket"), request.args.get("key")
    after = _cursor(request.args.get("after", "0"))
    limit = _cursor(request.args.get("limit", "0"))
    if after is None or limit is None or limit > MAX_PAGE:
        return _bad(f"after must be an entry id and limit a number from 1 to {MAX_PAGE}")
    if not limit:
        rows = journal.iter_entries(bucket, key, after=after)
        return Response(_json_array(rows), mimetype="application/json")
    page = journal.page(bucket, key, after=after, limit=limit)
    response = jsonify([{"id": entry_id, **entry} for entry_id, entry in page])
    if len(page) == limit:
        response.headers["X-Ossemu-Next-After"] = str(page[-1][0])
    return response


def _json_array(rows: Iterator[tuple[int, dict[str, Any]]]) -> Iterator[bytes]:
    yield b"["
    for number, (entry_id, entry) in enumerate(rows):
        document = json.dumps({"id": entry_id, **entry}, ensure_ascii=False)
        yield (b"," if number else b"") + document.encode()
    yield b"]\n"


def _cursor(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


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
