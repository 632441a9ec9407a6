"""The inspector: a web page at ``/_ossemu/`` for buckets, objects, uploads, the callback
journal (with replay and trigger) and fault rules.

A Blueprint with its own ``static/`` and ``templates/``: plain HTML, CSS and JavaScript shipped
as package data, no build step and nothing from a CDN. The page holds no data of its own; its
script reads and changes everything through the control API's JSON (``/_ossemu/buckets``,
``/_ossemu/callbacks``...), so the page and the CLI see the same thing, and every change it
makes passes the control API's guard (same-origin, served Host, no callbacks).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, render_template, send_from_directory

PREFIX = "/_ossemu"
STATIC = Path(__file__).parent / "static"
FILES = frozenset({"inspector.js", "inspector.css"})


def register(
    app: Flask, routed: Callable[[Callable[..., Response]], Callable[..., Response]]
) -> None:
    """Serve the page and its files under ``/_ossemu/``; ``routed`` wraps each view so that on
    a bucket's virtual host the same paths stay that bucket's keys."""
    blueprint = Blueprint("inspector", __name__, template_folder="templates", static_folder=None)
    blueprint.add_url_rule("/", "page", routed(_page), methods=["GET"])
    blueprint.add_url_rule("/static/<name>", "static", routed(_static), methods=["GET"])
    app.register_blueprint(blueprint, url_prefix=PREFIX)


def _page() -> Response:
    response = Response(render_template("inspector.html"), content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _static(name: str) -> Response:
    """The page's two files (the blueprint's own static route would skip ``routed``)."""
    if name not in FILES:
        return Response("not found", status=404, content_type="text/plain")
    return send_from_directory(STATIC, name, max_age=0)
