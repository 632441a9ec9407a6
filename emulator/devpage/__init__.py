"""The direct-upload page that ``ossemu dev`` serves: the app server's half of Alibaba's "web
direct upload" flow, on the callback receiver's port.

The browser loads the page from the receiver, asks ``/api/post-form`` for a signed PostObject
form (V1 or V4, with a callback to the receiver and an ``x:`` variable), then POSTs the file
straight to the emulator, across origins (``ossemu dev`` gives its bucket CORS rules for local
origins). The page shows the app server's JSON that the emulator relays, and the image, which
was uploaded ``public-read`` so the page can read it back without a signature.

Stdlib only, plus the SDK's form signer (``ossemu.client``), imported when a form is signed: an
edge tool, like the receiver's verifier. Static files ship as package data; no CDN, no build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from urllib.parse import parse_qsl, quote

from ..receiver.records import Reply

#: What the page may serve, by request path: (file in ``static/``, Content-Type).
_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
SIGN_PATH = "/api/post-form"
KEY = "uploads/${filename}"
MAX_SIZE = 10 * 2**20


@dataclass
class DevPage:
    """Serves the page and signs forms for ``bucket`` on the emulator at ``endpoint``."""

    endpoint: str
    bucket: str
    access_key_id: str
    access_key_secret: str
    #: Where the emulator calls back: the receiver that serves this page.
    callback_url: str = ""

    def __call__(self, target: str) -> Reply | None:
        """The answer to ``GET target``, or None when it is not the page's (a callback)."""
        path, _, query = target.partition("?")
        if path in _FILES:
            name, content_type = _FILES[path]
            body = resources.files(__package__).joinpath("static", name).read_bytes()
            return Reply(200, body, content_type=content_type, headers=_NO_STORE)
        if path == "/favicon.ico":
            return Reply(204, b"", content_type=None)
        if path == SIGN_PATH:
            return self._sign(dict(parse_qsl(query)))
        return None

    def _sign(self, args: dict[str, str]) -> Reply:
        version = args.get("version", "v4")
        filename = args.get("filename", "")
        if version not in ("v1", "v4") or not filename or "/" in filename:
            return _json(400, {"error": "version must be v1 or v4, filename a plain file name"})
        form = self.form(version)
        key = KEY.replace("${filename}", filename)
        return _json(
            200,
            {
                "url": form.url,
                "fields": list(form.fields.items()),
                "key": key,
                "object_url": f"{form.url.rstrip('/')}/{quote(key)}",
                "version": version,
            },
        )

    def form(self, version: str):  # type: ignore[no-untyped-def]
        """A signed form for one image under ``uploads/``, public-read, with a callback."""
        from ossemu.client import Callback, Client

        callback = Callback(
            url=self.callback_url,
            query={"from": "dev-page"},
            body="bucket=${bucket}&object=${object}&size=${size}&mimeType=${mimeType}&uid=${x:uid}",
        )
        with Client(self.endpoint, self.access_key_id, self.access_key_secret) as client:
            return client.get_bucket(self.bucket).post_object_form(
                KEY,
                expires=600,
                content_length_range=(0, MAX_SIZE),
                success_action_status=200,
                callback=callback,
                callback_vars={"x:uid": "42"},
                fields={"x-oss-object-acl": "public-read"},
                signature_version=version,
            )


_NO_STORE = {"Cache-Control": "no-store"}


def _json(status: int, value: object) -> Reply:
    return Reply(status, json.dumps(value).encode(), headers=_NO_STORE)
