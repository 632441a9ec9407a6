"""``/_ossemu/callbacks``: what each app server was sent and answered, read over HTTP.

The journal is the emulator's answer to "why did my callback fail?": for every delivery it keeps
each URL tried, the exact request (headers and body), the app's answer and OSS's verdict.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import requests

from ossemu.client import Callback, CallbackError

CONNECT_FAILED = "Error status : -1.OSS can not connect to your callbackUrl, please check it."


def journal(emulator, **filters: str) -> list[dict]:
    response = requests.get(f"{emulator.url}/_ossemu/callbacks", params=filters, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


@pytest.fixture
def other_bucket(oss_client, oss_emulator):
    name = f"test-other-{uuid.uuid4().hex[:12]}"
    yield oss_client.create_bucket(name)
    oss_emulator.services.storage.drop_bucket(name)


def test_journal_records_each_delivery_with_the_exact_request_and_answer(
    oss_emulator, oss_bucket, callback_receiver
):
    callback_receiver.respond_with(body=b'{"first":true}')
    oss_bucket.put_object("a.txt", b"first", callback=Callback(url=callback_receiver.url))
    callback_receiver.respond_with(body=b'{"second":true}')
    oss_bucket.put_object(
        "b.txt",
        b"second",
        callback=Callback(url=callback_receiver.url, body="object=${object}&v=${x:v}"),
        callback_vars={"v": "2"},
    )

    entries = journal(oss_emulator, bucket=oss_bucket.name)

    assert [(e["bucket"], e["key"]) for e in entries] == [
        (oss_bucket.name, "a.txt"),
        (oss_bucket.name, "b.txt"),
    ]
    times = [datetime.fromisoformat(e["time"].replace("Z", "+00:00")) for e in entries]
    assert times == sorted(times)
    received = callback_receiver.wait_for(2)
    for entry, sent in zip(entries, received, strict=True):
        assert entry["operation"] == "PutObject"
        assert entry["outcome"] == "ok" and entry["message"] == ""
        assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0
        [attempt] = entry["attempts"]
        assert attempt["url"] == callback_receiver.url
        request = attempt["request"]
        assert (request["method"], request["target"], request["version"]) == (
            "POST",
            sent.wire_target,
            "HTTP/1.0",
        )
        assert {name.lower(): value for name, value in request["headers"]} == sent.headers
        assert request["body"].encode() == sent.body
        assert attempt["ok"] is True and isinstance(attempt["duration_ms"], int)
    assert entries[1]["attempts"][0]["request"]["body"] == "object=b.txt&v=2"
    answers = [entry["attempts"][0]["response"] for entry in entries]
    assert [(a["status"], a["body"]) for a in answers] == [
        (200, '{"first":true}'),
        (200, '{"second":true}'),
    ]
    assert ["Content-Length", "14"] in answers[0]["headers"]


def test_journal_records_a_failed_delivery_with_its_203_message(
    oss_emulator, oss_bucket, callback_receiver
):
    callback_receiver.respond_with(status=502, body=b"bad gateway")
    with pytest.raises(CallbackError) as caught:
        oss_bucket.put_object("fail.txt", b"x", callback=Callback(url=callback_receiver.url))

    [entry] = journal(oss_emulator, bucket=oss_bucket.name, key="fail.txt")

    assert entry["outcome"] == "failed"
    assert entry["message"] == caught.value.message == "Error status : 502."
    assert entry["request_id"] == caught.value.request_id
    [attempt] = entry["attempts"]
    assert attempt["ok"] is False and attempt["message"] == "Error status : 502."
    assert (attempt["response"]["status"], attempt["response"]["body"]) == (502, "bad gateway")


def test_journal_shows_every_url_tried_in_order(
    oss_emulator, oss_bucket, callback_receiver, closed_port
):
    dead = f"http://127.0.0.1:{closed_port}"
    oss_bucket.put_object(
        "failover.txt", b"x", callback=Callback(url=[dead, callback_receiver.url])
    )

    [entry] = journal(oss_emulator, bucket=oss_bucket.name, key="failover.txt")

    assert entry["callback"]["urls"] == [dead, callback_receiver.url]
    first, second = entry["attempts"]
    assert (first["url"], first["ok"], first["message"]) == (dead, False, CONNECT_FAILED)
    assert first["response"] is None and first["error"]
    assert (second["url"], second["ok"], second["response"]["status"]) == (
        callback_receiver.url,
        True,
        200,
    )
    assert entry["outcome"] == "ok"


def test_journal_filters_by_bucket_and_key(
    oss_emulator, oss_bucket, other_bucket, callback_receiver
):
    callback = Callback(url=callback_receiver.url)
    oss_bucket.put_object("a.txt", b"1", callback=callback)
    oss_bucket.put_object("b.txt", b"2", callback=callback)
    other_bucket.put_object("a.txt", b"3", callback=callback)

    mine = journal(oss_emulator, bucket=oss_bucket.name)
    just_b = journal(oss_emulator, bucket=oss_bucket.name, key="b.txt")
    theirs = journal(oss_emulator, bucket=other_bucket.name)

    assert [e["key"] for e in mine] == ["a.txt", "b.txt"]
    assert [(e["bucket"], e["key"]) for e in just_b] == [(oss_bucket.name, "b.txt")]
    assert [(e["bucket"], e["key"]) for e in theirs] == [(other_bucket.name, "a.txt")]
    both = {(e["bucket"], e["key"]) for e in journal(oss_emulator, key="a.txt")}
    assert {(oss_bucket.name, "a.txt"), (other_bucket.name, "a.txt")} <= both


def test_journal_delete_clears_it(oss_emulator, oss_bucket, callback_receiver):
    oss_bucket.put_object("a.txt", b"1", callback=Callback(url=callback_receiver.url))
    assert len(journal(oss_emulator, bucket=oss_bucket.name)) == 1

    response = requests.delete(f"{oss_emulator.url}/_ossemu/callbacks", timeout=10)

    assert response.status_code == 204
    assert journal(oss_emulator) == []
    assert oss_emulator.callbacks() == []


def test_journal_never_shows_a_secret(oss_emulator, oss_bucket, callback_receiver):
    callback = Callback(url=callback_receiver.url)
    oss_bucket.put_object("ok.txt", b"1", callback=callback)
    callback_receiver.respond_with(status=500)
    with pytest.raises(CallbackError):
        oss_bucket.put_object("failed.txt", b"2", callback=callback)

    text = requests.get(f"{oss_emulator.url}/_ossemu/callbacks", timeout=10).text

    assert oss_emulator.access_key_secret not in text
    private_pem = (oss_emulator.config.data_dir / "callback-key.pem").read_text()
    key_lines = [line for line in private_pem.splitlines() if not line.startswith("-----")]
    assert len(key_lines) > 10
    assert not any(line in text for line in key_lines)
    assert "PRIVATE KEY" not in text
