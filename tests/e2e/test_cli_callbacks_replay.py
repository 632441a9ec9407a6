"""``ossemu callbacks replay ID [--url URL]`` and ``ossemu callbacks trigger oss://B/K``: the
page's replay and trigger, from a shell; each delivery lands in the journal with its number."""

from __future__ import annotations

import pytest

from ossemu.client import Callback, CallbackError


def test_callbacks_replay_sends_a_failed_delivery_again(ossemu, oss_bucket, callback_receiver):
    callback_receiver.respond_with(status=500)
    with pytest.raises(CallbackError):
        oss_bucket.put_object("late.txt", b"x", callback=Callback(url=callback_receiver.url))
    code, out, _ = ossemu("callbacks", "--bucket", oss_bucket.name)
    assert code == 0 and out.startswith("#")
    entry_id = out.split()[0].lstrip("#")
    assert "-> FAILED: " in out.splitlines()[0]

    callback_receiver.respond_with(status=200)
    code, out, _ = ossemu("callbacks", "replay", entry_id)
    assert code == 0 and out.startswith(f"#{entry_id}: delivered as journal entry #")
    assert out.rstrip().endswith(": ok (200)")
    new_id = out.split("#")[2].split(":")[0]
    sent = callback_receiver.wait_for(2)
    assert sent[1].body == sent[0].body and sent[1].verified

    code, out, _ = ossemu("callbacks", "--bucket", oss_bucket.name)
    blocks = out.split("\n\n")
    assert blocks[1].startswith(f"#{new_id}  ") and "  Replay  " in blocks[1].splitlines()[0]


def test_callbacks_replay_to_another_url_that_refuses_exits_3(
    ossemu, oss_bucket, callback_receiver
):
    oss_bucket.put_object("a.txt", b"x", callback=Callback(url=callback_receiver.url))
    entry_id = ossemu("callbacks")[1].split()[0].lstrip("#")
    code, out, _ = ossemu("callbacks", "replay", entry_id, "--url", "http://127.0.0.1:9/x")
    assert code == 3 and "FAILED: Error status : -1.OSS can not connect" in out
    code, out, err = ossemu("callbacks", "replay", "999999999")
    assert (code, out) == (2, "") and "no journal entry 999999999" in err


def test_callbacks_trigger_renders_the_template_for_a_stored_object(
    ossemu, oss_bucket, callback_receiver
):
    oss_bucket.put_object("photo.txt", b"12345")
    code, out, _ = ossemu(
        "callbacks",
        "trigger",
        f"oss://{oss_bucket.name}/photo.txt",
        "--url",
        callback_receiver.url,
        "--body",
        "object=${object}&size=${size}&who=${x:who}",
        "--var",
        "x:who=me",
    )
    assert code == 0 and out.rstrip().endswith(": ok (200)")
    [sent] = callback_receiver.wait_for(1)
    assert sent.body == b"object=photo.txt&size=5&who=me" and sent.verified
    code, out, err = ossemu(
        "callbacks", "trigger", f"oss://{oss_bucket.name}/nope", "--url", callback_receiver.url
    )
    assert code == 2 and "NoSuchKey" not in out and "does not exist" in err
    code, _, err = ossemu(
        "callbacks", "trigger", f"oss://{oss_bucket.name}/photo.txt", "--url", "x", "--var", "a"
    )
    assert code == 2 and "--var takes x:NAME=VALUE" in err
