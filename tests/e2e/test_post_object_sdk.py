"""The direct-upload story through our SDK: the app server signs a form, the "browser" POSTs it.

``bucket.post_object_form`` is the app server's half, ``bucket.post_object`` the browser's; the
emulator checks the policy, stores the file, calls the app server back and relays its JSON.
"""

from __future__ import annotations

import hashlib

import pytest

from ossemu.client import Callback, CallbackError, Client, ServerError


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_post_object_form_with_callback_relays_the_app_servers_json(
    oss_bucket, callback_receiver, version
):
    callback_receiver.respond_with(body={"uploaded": True})
    callback = Callback(
        url=callback_receiver.url, body="bucket=${bucket}&object=${object}&uid=${x:uid}"
    )
    form = oss_bucket.post_object_form(
        "uploads/${filename}",
        expires=600,
        content_length_range=(0, 10 * 2**20),
        success_action_status=200,
        callback=callback,
        callback_vars={"x:uid": "42"},
        signature_version=version,
    )

    result = oss_bucket.post_object(form, b"hello form", filename="photo.png")

    assert result.callback_json() == {"uploaded": True}
    (got,) = callback_receiver.wait_for(1)
    assert got.form == {"bucket": oss_bucket.name, "object": "uploads/photo.png", "uid": "42"}
    assert oss_bucket.get_object("uploads/photo.png") == b"hello form"
    assert result.etag == hashlib.md5(b"hello form").hexdigest().upper()
    assert oss_bucket.head_object("uploads/photo.png").content_type == "image/png"


def test_post_object_form_fields_come_in_order_before_the_file(oss_bucket):
    form = oss_bucket.post_object_form(key_prefix="u/", signature_version="v4")

    assert list(form.fields)[:2] == ["key", "policy"]
    assert form.fields["key"] == "u/${filename}"
    assert form.fields["x-oss-signature-version"] == "OSS4-HMAC-SHA256"
    assert form.url.endswith(f"/{oss_bucket.name}/")
    assert ["starts-with", "$key", "u/"] in form.policy["conditions"]


def test_post_object_callback_203_keeps_the_object(oss_bucket, callback_receiver):
    callback_receiver.respond_with(status=500, body="nope")
    form = oss_bucket.post_object_form(
        "k.txt", callback=Callback(url=callback_receiver.url), signature_version="v1"
    )

    with pytest.raises(CallbackError) as caught:
        oss_bucket.post_object(form, b"kept")

    assert caught.value.status == 203
    assert caught.value.etag == hashlib.md5(b"kept").hexdigest().upper()
    assert oss_bucket.get_object("k.txt") == b"kept"


def test_post_object_beyond_content_length_range_is_entity_too_large(oss_bucket):
    form = oss_bucket.post_object_form("big.bin", content_length_range=(0, 4))

    with pytest.raises(ServerError) as caught:
        oss_bucket.post_object(form, b"12345")

    assert (caught.value.status, caught.value.code) == (400, "EntityTooLarge")
    assert not list(oss_bucket.list_objects())


def test_post_object_form_signed_with_a_wrong_secret_is_refused(oss_emulator, oss_bucket):
    with Client(oss_emulator.url, oss_emulator.access_key_id, "not-the-secret") as forger:
        form = forger.get_bucket(oss_bucket.name).post_object_form("x.txt")

    with pytest.raises(ServerError) as caught:
        oss_bucket.post_object(form, b"x")

    assert (caught.value.status, caught.value.code) == (403, "SignatureDoesNotMatch")
    assert caught.value.ec == "0002-00000705"
    assert not list(oss_bucket.list_objects())


def test_post_object_streams_a_file_from_disk(oss_bucket, tmp_path):
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 4096 * 3  # 3 MiB: through the blob files, not inline
    path.write_bytes(data)
    form = oss_bucket.post_object_form("big/data.bin", success_action_status=201)

    with path.open("rb") as f:
        result = oss_bucket.post_object(form, f, filename=path)

    assert result.status == 201
    assert result.etag == hashlib.md5(data).hexdigest().upper()
    assert hashlib.md5(oss_bucket.get_object("big/data.bin")).digest() == hashlib.md5(data).digest()


def test_post_object_streams_a_64_mib_form_and_stores_its_md5(oss_bucket, tmp_path):
    path = tmp_path / "big.bin"
    digest = hashlib.md5()
    with path.open("wb") as f:
        for i in range(64):
            block = hashlib.sha256(str(i).encode()).digest() * 32768  # 1 MiB
            digest.update(block)
            f.write(block)
    form = oss_bucket.post_object_form("big.bin", content_length_range=(0, 64 * 2**20))

    with path.open("rb") as f:
        result = oss_bucket.post_object(form, f, filename="big.bin")

    assert result.status == 204
    assert result.etag == digest.hexdigest().upper()
    assert oss_bucket.head_object("big.bin").size == 64 * 2**20
    stored = hashlib.md5()
    for chunk in oss_bucket.get_object("big.bin", stream=True):
        stored.update(chunk)
    assert stored.hexdigest() == digest.hexdigest()


def test_post_object_form_with_a_redirect_answers_303_to_the_app(oss_bucket):
    form = oss_bucket.post_object_form("r.txt", success_action_redirect="https://app.example/ok")

    result = oss_bucket.post_object(form, b"r")

    assert result.status == 303
    etag = hashlib.md5(b"r").hexdigest().upper()
    location = f"https://app.example/ok?bucket={oss_bucket.name}&key=r.txt&etag={etag}"
    assert result.headers["Location"] == location
    assert result.etag == etag
