"""PostObject through Flask's test client, with auth off (``--no-auth``: every caller is the
owner, so an unsigned form is stored); the signed cases are in tests/e2e/test_post_object_*.py."""

from __future__ import annotations

import pytest

from ossemu.emulator.app import create_app
from ossemu.emulator.config import EmulatorConfig
from tests.support import form_body


@pytest.fixture
def app(tmp_path):
    app = create_app(EmulatorConfig(data_dir=tmp_path / "data", auth=False))
    app.test_client().put("/bkt")
    yield app
    app.extensions["ossemu"].close()


def post(app, fields, file=b"data", headers=None, **kw):
    body, content_type = form_body(fields, file, **kw)
    return app.test_client().post(
        "/bkt", data=body, headers={"Content-Type": content_type, **(headers or {})}
    )


def meta(app, key):
    return app.extensions["ossemu"].storage.head_object("bkt", key)


def test_post_object_unsigned_form_is_stored_when_auth_is_off(app):
    response = post(app, [("key", "in/${filename}")], b"hi", filename="C:\\Users\\me\\a.txt")

    assert response.status_code == 204
    assert app.test_client().get("/bkt/in/a.txt").data == b"hi"


def test_post_object_content_type_order(app):
    post(app, [("key", "a.bin"), ("Content-Type", "text/x-field")], filename=None)
    post(app, [("key", "b.bin"), ("Content-Type", "text/x-field")], boundary="b2")
    both = [
        ("key", "c.bin"),
        ("Content-Type", "text/x-field"),
        ("x-oss-content-type", "text/x-oss"),
    ]
    post(app, both)
    post(app, [("key", "d.png")], filename=None)

    assert meta(app, "a.bin").content_type == "text/x-field"
    assert meta(app, "b.bin").content_type == "text/x-field"
    assert meta(app, "c.bin").content_type == "text/x-oss"
    assert meta(app, "d.png").content_type == "image/png"


@pytest.mark.parametrize("name", ["Content-Type", "x-oss-content-type"])
@pytest.mark.parametrize("value", ["\r", "text/plain\r\nX-Injected: 1", "a\x01b"])
def test_post_object_content_type_with_a_control_character_is_refused(app, name, value):
    """A form field can hold what no header can; the type goes back out as the object's
    Content-Type, so it is refused as a stored header's value is, and nothing is stored (a GET
    of such an object answered 500 before)."""
    response = post(app, [("key", "ctl.bin"), (name, value)], filename=None)

    assert response.status_code == 400
    assert b"<Code>InvalidArgument</Code>" in response.data
    assert f"The {name} field contains a control character.".encode() in response.data
    assert app.test_client().get("/bkt/ctl.bin").status_code == 404


def test_post_object_file_part_type_is_kept_whole(app):
    body, content_type = form_body([("key", "t.txt")], None)
    body = body.replace(
        b"--9431149156168--",
        b'--9431149156168\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n--9431149156168--",
    )

    response = app.test_client().post("/bkt", data=body, headers={"Content-Type": content_type})

    assert response.status_code == 204
    assert meta(app, "t.txt").content_type == "text/plain; charset=utf-8"


def test_post_object_acl_field_wins_over_the_header(app):
    post(app, [("key", "h")], headers={"x-oss-object-acl": "public-read"})
    post(
        app,
        [("key", "f"), ("x-oss-object-acl", "private")],
        headers={"x-oss-object-acl": "public-read"},
    )
    post(app, [("key", "d")])

    assert [meta(app, k).acl for k in ("h", "f", "d")] == ["public-read", "private", "default"]
