"""The control API behind the inspector page: buckets, objects, uploads, the journal newest
first, replay and trigger, over real HTTP (the page's script makes these same calls)."""

from __future__ import annotations

import pytest
import requests

from ossemu.client import Callback, CallbackError


def api(emulator, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{emulator.url}/_ossemu{path}", timeout=10, **kwargs)


@pytest.fixture
def failed_and_ok(oss_emulator, oss_bucket, callback_receiver):
    """Two uploads with callbacks: the app accepts the first and answers 500 to the second."""
    oss_bucket.put_object("docs/ok.txt", b"fine", callback=Callback(url=callback_receiver.url))
    callback_receiver.respond_with(status=500, body=b'{"boom":1}')
    with pytest.raises(CallbackError):
        oss_bucket.put_object("docs/bad.txt", b"bad", callback=Callback(url=callback_receiver.url))
    callback_receiver.respond_with(status=200)
    return oss_bucket


def test_inspector_page_is_served_with_its_files(oss_emulator):
    page = api(oss_emulator, "GET", "/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "ossemu inspector" in page.text and "cdn" not in page.text.lower()
    for name in ("inspector.js", "inspector.css"):
        assert f"/_ossemu/static/{name}" in page.text
        asset = api(oss_emulator, "GET", f"/static/{name}")
        assert asset.status_code == 200 and len(asset.content) < 40_000
    assert api(oss_emulator, "GET", "/static/other.js").status_code == 404
    assert api(oss_emulator, "GET", "/static/..%2Fconftest.py").status_code != 200


def test_buckets_list_counts_objects_and_bytes(oss_emulator, oss_bucket):
    oss_bucket.put_object("a", b"12345")
    oss_bucket.put_object("b/c", b"123")
    [mine] = [
        b for b in api(oss_emulator, "GET", "/buckets").json() if b["name"] == oss_bucket.name
    ]
    assert (mine["objects"], mine["bytes"]) == (2, 8)


def test_objects_are_listed_by_folder_and_paged(oss_emulator, oss_bucket):
    for key in ("top.txt", "dir/a.txt", "dir/b.txt", "dir/c.txt", "dir/sub/d.txt"):
        oss_bucket.put_object(key, b"x", metadata={"owner": "me"})
    root = api(oss_emulator, "GET", f"/buckets/{oss_bucket.name}/objects").json()
    assert root["prefixes"] == ["dir/"] and [o["key"] for o in root["objects"]] == ["top.txt"]
    assert root["objects"][0]["metadata"] == {"x-oss-meta-owner": "me"}
    assert root["objects"][0]["acl"] == "default" and root["next_marker"] is None

    path = f"/buckets/{oss_bucket.name}/objects"
    first = api(oss_emulator, "GET", path, params={"prefix": "dir/", "limit": 2}).json()
    assert [o["key"] for o in first["objects"]] == ["dir/a.txt", "dir/b.txt"]
    params = {"prefix": "dir/", "limit": 2, "marker": first["next_marker"]}
    second = api(oss_emulator, "GET", path, params=params).json()
    assert [o["key"] for o in second["objects"]] == ["dir/c.txt"]
    assert second["prefixes"] == ["dir/sub/"] and second["next_marker"] is None


def test_objects_of_a_missing_bucket_or_a_bad_limit_are_json_errors(oss_emulator, oss_bucket):
    missing = api(oss_emulator, "GET", "/buckets/no-such-bucket-here/objects")
    assert missing.status_code == 404 and missing.json()["code"] == "NoSuchBucket"
    bad = api(oss_emulator, "GET", f"/buckets/{oss_bucket.name}/objects", params={"limit": "0"})
    assert bad.status_code == 400 and "limit" in bad.json()["error"]


def test_object_download_and_delete_through_the_control_api(oss_emulator, oss_bucket):
    oss_bucket.put_object("dir/ü file.bin", b"\x00payload", headers={"Content-Type": "x/y"})
    path = f"/buckets/{oss_bucket.name}/object"
    got = api(oss_emulator, "GET", path, params={"key": "dir/ü file.bin"})
    assert got.status_code == 200 and got.content == b"\x00payload"
    assert got.headers["Content-Type"] == "x/y"
    assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''%C3%BC%20file.bin"

    assert api(oss_emulator, "DELETE", path, params={"key": "dir/ü file.bin"}).status_code == 204
    assert not oss_bucket.object_exists("dir/ü file.bin")
    again = api(oss_emulator, "DELETE", path, params={"key": "dir/ü file.bin"})
    assert again.status_code == 404 and again.json()["code"] == "NoSuchKey"
    assert api(oss_emulator, "GET", path).status_code == 400  # no key


def test_uploads_in_progress_show_their_parts_and_abort(oss_emulator, oss_bucket):
    upload_id = oss_bucket.init_multipart_upload("big.bin")
    oss_bucket.upload_part("big.bin", upload_id, 1, b"a" * 100)
    oss_bucket.upload_part("big.bin", upload_id, 2, b"b" * 7)
    listed = api(oss_emulator, "GET", f"/buckets/{oss_bucket.name}/uploads").json()
    [upload] = listed["uploads"]
    assert (upload["upload_id"], upload["key"]) == (upload_id, "big.bin")
    assert [(p["number"], p["size"]) for p in upload["parts"]] == [(1, 100), (2, 7)]

    path = f"/buckets/{oss_bucket.name}/uploads/{upload_id}"
    assert api(oss_emulator, "DELETE", path, params={"key": "big.bin"}).status_code == 204
    assert api(oss_emulator, "GET", f"/buckets/{oss_bucket.name}/uploads").json()["uploads"] == []
    gone = api(oss_emulator, "DELETE", path, params={"key": "big.bin"})
    assert gone.status_code == 404 and gone.json()["code"] == "NoSuchUpload"


def test_journal_newest_first_filtered_by_outcome_with_signature_checks(
    oss_emulator, failed_and_ok
):
    params = {"order": "newest", "bucket": failed_and_ok.name, "verify": "1"}
    entries = api(oss_emulator, "GET", "/callbacks", params=params).json()
    assert [(e["key"], e["outcome"]) for e in entries] == [
        ("docs/bad.txt", "failed"),
        ("docs/ok.txt", "ok"),
    ]
    assert entries[0]["id"] > entries[1]["id"]
    for entry in entries:
        [attempt] = entry["attempts"]
        assert attempt["signature"]["verified"] is True
        assert attempt["signature"]["signed_prefix"] == attempt["request"]["target"]
    assert entries[0]["attempts"][0]["response"]["status"] == 500

    failed = api(oss_emulator, "GET", "/callbacks", params={**params, "outcome": "failed"})
    assert [e["key"] for e in failed.json()] == ["docs/bad.txt"]
    paged = api(oss_emulator, "GET", "/callbacks", params={**params, "limit": 1})
    assert [e["key"] for e in paged.json()] == ["docs/bad.txt"]
    before = paged.headers["X-Ossemu-Next-Before"]
    older = api(oss_emulator, "GET", "/callbacks", params={**params, "before": before})
    assert [e["key"] for e in older.json()] == ["docs/ok.txt"]
    bad = api(oss_emulator, "GET", "/callbacks", params={**params, "outcome": "maybe"})
    assert bad.status_code == 400


def test_replay_sends_the_failed_body_again_signed_afresh_and_journals_it(
    oss_emulator, failed_and_ok, callback_receiver
):
    newest = api(oss_emulator, "GET", "/callbacks", params={"order": "newest"}).json()
    failed = newest[0]
    callback_receiver.respond_with(status=200, body=b'{"now":"fine"}')

    replayed = api(oss_emulator, "POST", f"/callbacks/{failed['id']}/replay", json={})
    assert replayed.status_code == 201
    result = replayed.json()
    assert result["outcome"] == "ok" and result["status"] == 200 and result["id"] > failed["id"]
    sent = callback_receiver.wait_for(3)[-1]
    assert sent.body == failed["attempts"][0]["request"]["body"].encode()
    assert sent.verified
    entry = api(oss_emulator, "GET", "/callbacks", params={"order": "newest"}).json()[0]
    assert entry["id"] == result["id"] and entry["operation"] == "Replay"
    assert entry["replay_of"] == failed["id"] and entry["key"] == "docs/bad.txt"


def test_replay_to_another_url_and_of_a_missing_entry(oss_emulator, failed_and_ok):
    [entry] = api(oss_emulator, "GET", "/callbacks", params={"order": "newest", "limit": 1}).json()
    closed = "http://127.0.0.1:9/elsewhere"
    result = api(oss_emulator, "POST", f"/callbacks/{entry['id']}/replay", json={"url": closed})
    assert result.status_code == 201 and result.json()["outcome"] == "failed"
    newest = api(oss_emulator, "GET", "/callbacks", params={"order": "newest", "limit": 1}).json()
    assert newest[0]["attempts"][0]["url"] == closed
    missing = api(oss_emulator, "POST", "/callbacks/999999999/replay", json={})
    assert missing.status_code == 404
    bad_url = api(oss_emulator, "POST", f"/callbacks/{entry['id']}/replay", json={"url": "ftp:x"})
    assert bad_url.status_code == 400


def test_trigger_renders_a_template_for_a_stored_object(
    oss_emulator, oss_bucket, callback_receiver
):
    oss_bucket.put_object("pic.txt", b"hello", headers={"Content-Type": "text/plain"})
    callback = {
        "callbackUrl": callback_receiver.url,
        "callbackBody": "object=${object}&size=${size}&mime=${mimeType}&uid=${x:uid}",
    }
    body = {"bucket": oss_bucket.name, "key": "pic.txt", "callback": callback}
    result = api(
        oss_emulator, "POST", "/callbacks/trigger", json={**body, "variables": {"x:uid": "7"}}
    )
    assert result.status_code == 201 and result.json()["outcome"] == "ok"
    [sent] = callback_receiver.wait_for(1)
    assert sent.body == b"object=pic.txt&size=5&mime=text%2Fplain&uid=7"
    assert sent.verified
    entry = api(oss_emulator, "GET", "/callbacks", params={"order": "newest"}).json()[0]
    assert entry["operation"] == "Trigger" and entry["id"] == result.json()["id"]

    missing = api(oss_emulator, "POST", "/callbacks/trigger", json={**body, "key": "nope"})
    assert missing.status_code == 404 and missing.json()["code"] == "NoSuchKey"
    no_url = api(oss_emulator, "POST", "/callbacks/trigger", json={**body, "callback": {}})
    assert no_url.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/buckets/b/object?key=k"),
        ("DELETE", "/buckets/b/uploads/u?key=k"),
        ("POST", "/callbacks/1/replay"),
        ("POST", "/callbacks/trigger"),
        ("GET", "/buckets"),
    ],
)
def test_new_control_endpoints_refuse_other_sites(oss_emulator, method, path):
    other = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    refused = api(oss_emulator, method, path, headers=other)
    assert refused.status_code == 403
    foreign = api(oss_emulator, method, path, headers={"Host": "rebound.example"})
    assert foreign.status_code == 403
    callback = api(oss_emulator, method, path, headers={"x-oss-pub-key-url": "aGk="})
    assert callback.status_code == 403


def test_the_page_and_its_api_work_with_auth_off(tmp_path):
    """``ossemu serve --no-auth``: the page never signs, so nothing changes for it."""
    from ossemu.emulator.config import EmulatorConfig
    from ossemu.emulator.server import EmulatorServer

    server = EmulatorServer(EmulatorConfig(data_dir=tmp_path, port=0, auth=False)).start()
    try:
        assert requests.put(f"{server.url}/lenient", timeout=10).status_code == 200
        assert requests.put(f"{server.url}/lenient/k", data=b"abc", timeout=10).status_code == 200
        assert api(server, "GET", "/").status_code == 200
        assert api(server, "GET", "/buckets").json()[0]["objects"] == 1
        assert api(server, "GET", "/buckets/lenient/object", params={"key": "k"}).content == b"abc"
        assert (
            api(server, "DELETE", "/buckets/lenient/object", params={"key": "k"}).status_code == 204
        )
    finally:
        server.stop()


def test_on_a_buckets_virtual_host_the_inspector_path_is_a_key(oss_emulator, oss_bucket):
    oss_bucket.put_object("_ossemu/", b"a key, not the page")
    host = {"Host": f"{oss_bucket.name}.localhost:{oss_emulator.port}"}
    page = api(oss_emulator, "GET", "/", headers=host)
    assert page.status_code == 403 and b"<Code>AccessDenied</Code>" in page.content  # unsigned
    assert api(oss_emulator, "GET", "/static/inspector.js", headers=host).status_code == 403
