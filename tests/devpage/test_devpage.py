"""The dev page's app-server side without a browser: what it serves, what it signs, and how the
receiver hands it GET requests while callbacks keep flowing to the receiver."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from ossemu.emulator.devpage import DevPage
from ossemu.emulator.receiver import CallbackReceiver
from ossemu.emulator.receiver.records import Reply


@pytest.fixture
def page(oss_emulator) -> DevPage:
    return DevPage(
        oss_emulator.url,
        "examplebucket",
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        callback_url="http://127.0.0.1:23450",
    )


def test_the_page_and_its_files_are_served_and_nothing_else(page):
    index = page("/")
    assert index is not None and index.content_type == "text/html; charset=utf-8"
    assert b'<script src="/app.js"></script>' in index.body
    assert page("/style.css").content_type == "text/css; charset=utf-8"
    for other in ("/../__init__.py", "/static/app.js", "/index.html", "/callback"):
        assert page(other) is None, other


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_the_signing_endpoint_returns_a_public_read_form_with_a_callback(page, version):
    reply = page(f"/api/post-form?version={version}&filename=cat%20photo.png")
    assert reply is not None and reply.status == 200
    answer = json.loads(reply.body)
    fields = dict(answer["fields"])
    assert answer["url"].endswith("/examplebucket/") and answer["key"] == "uploads/cat photo.png"
    assert answer["object_url"].endswith("/examplebucket/uploads/cat%20photo.png")
    assert fields["key"] == "uploads/${filename}" and fields["x:uid"] == "42"
    assert fields["x-oss-object-acl"] == "public-read"
    callback = json.loads(base64.b64decode(fields["callback"]))
    assert callback["callbackUrl"].startswith("http://127.0.0.1:23450")
    assert ("x-oss-signature" if version == "v4" else "Signature") in fields


@pytest.mark.parametrize(
    "query", ["version=v2&filename=a.png", "version=v4", "version=v1&filename=a/b.png"]
)
def test_the_signing_endpoint_refuses_bad_requests(page, query):
    reply = page(f"/api/post-form?{query}")
    assert reply is not None and reply.status == 400 and "error" in json.loads(reply.body)


def test_the_receiver_asks_pages_first_for_gets_only():
    seen = []

    def pages(target: str) -> Reply | None:
        seen.append(target)
        if target == "/broken":
            raise RuntimeError("boom")
        return Reply(200, b"page", content_type="text/plain") if target == "/p" else None

    with CallbackReceiver(pages=pages, verify=False) as receiver:
        assert requests.get(receiver.url + "/p").text == "page"
        assert requests.get(receiver.url + "/broken").status_code == 500
        assert requests.get(receiver.url + "/other").status_code == 501  # not a page: as before
        posted = requests.post(receiver.url + "/p", data=b"a=1")
        assert posted.json() == {"Status": "OK"}  # a POST is a callback, whatever its path
        assert [c.method for c in receiver.log] == ["GET", "POST"]
    assert seen == ["/p", "/broken", "/other"]
