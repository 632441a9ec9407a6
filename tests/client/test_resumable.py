"""Bucket.resumable_upload against the emulator: parts, callbacks, faults, resume, changed files.

Request counts come from the emulator's fault injector: a pass-through ``delay`` rule with no
delay matches every UploadPart and counts them in ``hits``.
"""

from __future__ import annotations

import os
import random

import pytest

from ossemu.client import (
    Callback,
    CallbackError,
    Checkpoint,
    Client,
    ClientError,
    InconsistentError,
    NoSuchUpload,
    RetryPolicy,
    ServerError,
)
from ossemu.client.checkpoint import checkpoint_path
from ossemu.client.crc import crc64

PART = 100 * 1024
RETRIES = 2


@pytest.fixture
def bucket(oss_emulator, oss_bucket):
    """The test's bucket through a client that retries twice, without waiting."""
    policy = RetryPolicy(RETRIES, base_delay=0.001, max_delay=0.002)
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        max_retries=policy,
    ) as client:
        yield client.get_bucket(oss_bucket.name)


@pytest.fixture
def cp_dir(tmp_path):
    return tmp_path / "checkpoints"


def make_file(tmp_path, size: int, seed: int = 0, name: str = "upload.bin"):
    path = tmp_path / name
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return path, data


def stored_checkpoint(cp_dir, path, bucket, key) -> Checkpoint | None:
    return Checkpoint.load(checkpoint_path(cp_dir, os.path.realpath(path), bucket.name, key))


def count_part_uploads(oss_emulator, key):
    return oss_emulator.add_fault(action="delay", operation="UploadPart", key=key, times=10**6)


def fail_part(oss_emulator, key, number, times=RETRIES + 1):
    """Make part ``number`` fail more often than the client retries."""
    return oss_emulator.add_fault(operation="UploadPart", key=key, part_number=number, times=times)


def uploads(bucket, key):
    return [u.upload_id for u in bucket.list_multipart_uploads(key)]


@pytest.mark.parametrize(
    "callback_kind",
    ["form", "json"],
)
def test_multipart_upload_with_callback_reaches_the_app_once(
    bucket, oss_emulator, callback_receiver, tmp_path, cp_dir, callback_kind
):
    path, data = make_file(tmp_path, 3 * PART + 12_345)
    if callback_kind == "form":
        callback = Callback(
            callback_receiver.url,
            body="op=${operation}&size=${size}&etag=${etag}&crc=${crc64}&v=${x:v}",
        )
    else:
        fields = {"op": "operation", "size": "size", "etag": "etag", "v": "x:v"}
        callback = Callback.json(callback_receiver.url, fields)
    callback_receiver.respond_with(body=b'{"stored":true,"id":7}')
    trace = []

    result = bucket.resumable_upload(
        "dir/big.bin",
        path,
        part_size=PART,
        checkpoint_dir=cp_dir,
        callback=callback,
        callback_vars={"v": "hello"},
        progress=lambda done, total: trace.append((done, total)),
    )

    assert result.status == 200
    assert result.callback_json() == {"stored": True, "id": 7}
    assert result.etag.endswith("-4") and result.crc64 == crc64(data)
    assert bucket.get_object("dir/big.bin") == data
    (received,) = callback_receiver.log
    fields = received.form if callback_kind == "form" else received.json
    assert fields["op"] == "CompleteMultipartUpload"
    assert str(fields["size"]) == str(len(data))
    assert fields["etag"] == result.etag and fields["v"] == "hello"
    assert received.verified
    assert len(oss_emulator.callbacks(bucket=bucket.name, key="dir/big.bin")) == 1
    assert uploads(bucket, "dir/big.bin") == []
    assert os.listdir(cp_dir) == []
    assert trace[0] == (0, len(data)) and trace[-1] == (len(data), len(data))
    assert [done for done, _ in trace] == sorted(done for done, _ in trace)


def test_callback_failure_on_complete_raises_with_the_stored_object(
    bucket, callback_receiver, tmp_path, cp_dir
):
    path, data = make_file(tmp_path, 3 * PART + 1)
    callback_receiver.respond_with(status=500)

    with pytest.raises(CallbackError) as info:
        bucket.resumable_upload(
            "k",
            path,
            part_size=PART,
            checkpoint_dir=cp_dir,
            callback=Callback(callback_receiver.url),
        )

    error = info.value
    assert error.status == 203 and error.code == "CallbackFailed" and error.upload_succeeded
    assert error.etag.endswith("-4") and error.crc64 == crc64(data)
    assert bucket.get_object("k") == data
    assert len(callback_receiver.log) == 1
    assert os.listdir(cp_dir) == []


def test_file_that_fits_in_one_part_goes_through_put_object(bucket, callback_receiver, tmp_path):
    path, data = make_file(tmp_path, 50_000, name="small.txt")
    result = bucket.resumable_upload(
        "small.txt",
        path,
        checkpoint_dir=tmp_path / "cp",
        callback=Callback(callback_receiver.url, body="op=${operation}&mime=${mimeType}"),
    )
    assert result.callback_json() == {"Status": "OK"}
    assert "-" not in result.etag and result.crc64 == crc64(data)
    assert callback_receiver.log[0].form == {"op": "PutObject", "mime": "text/plain"}
    assert bucket.get_object("small.txt") == data
    assert uploads(bucket, "small.txt") == []


def test_failed_part_keeps_the_upload_and_resume_sends_only_missing_parts(
    bucket, oss_emulator, tmp_path, cp_dir
):
    path, data = make_file(tmp_path, 5 * PART + PART // 2)
    fail_part(oss_emulator, "k", 3)

    with pytest.raises(ServerError) as info:
        bucket.resumable_upload("k", path, part_size=PART, threads=2, checkpoint_dir=f"{cp_dir}/")
    assert info.value.status == 500 and info.value.code == "InternalError"

    recorded = stored_checkpoint(cp_dir, path, bucket, "k")
    assert 3 not in recorded.parts and recorded.part_count == 6
    assert uploads(bucket, "k") == [recorded.upload_id]
    assert {p.number for p in bucket.list_parts("k", recorded.upload_id)} == set(recorded.parts)

    sent = count_part_uploads(oss_emulator, "k")
    trace = []
    result = bucket.resumable_upload(
        "k", path, part_size=PART, checkpoint_dir=cp_dir, progress=lambda d, t: trace.append(d)
    )

    assert sent.hits == 6 - len(recorded.parts)
    assert trace[0] == recorded.done_bytes() and trace[-1] == len(data)
    assert trace == sorted(trace)
    assert result.etag.endswith("-6") and bucket.get_object("k") == data
    assert uploads(bucket, "k") == [] and os.listdir(cp_dir) == []


def test_resume_with_every_part_done_only_completes(bucket, oss_emulator, tmp_path, cp_dir):
    path, data = make_file(tmp_path, 2 * PART + 10)
    oss_emulator.add_fault(operation="CompleteMultipartUpload", key="k", times=RETRIES + 1)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    assert stored_checkpoint(cp_dir, path, bucket, "k").missing() == []

    sent = count_part_uploads(oss_emulator, "k")
    trace = []
    bucket.resumable_upload(
        "k", path, part_size=PART, checkpoint_dir=cp_dir, progress=lambda d, t: trace.append(d)
    )
    assert sent.hits == 0 and trace == [len(data)]
    assert bucket.get_object("k") == data


@pytest.mark.parametrize("change", ["grown", "touched", "replaced"])
def test_changed_file_aborts_the_old_upload_and_starts_again(
    bucket, oss_emulator, tmp_path, cp_dir, change
):
    path, _ = make_file(tmp_path, 4 * PART)
    fail_part(oss_emulator, "k", 2)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    old_upload = stored_checkpoint(cp_dir, path, bucket, "k").upload_id

    if change == "grown":
        with open(path, "ab") as f:
            f.write(b"more")
    elif change == "touched":
        stat = os.stat(path)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    else:
        replacement, _ = make_file(tmp_path, 4 * PART, seed=9, name="replacement.bin")
        os.replace(replacement, path)
    new_data = path.read_bytes()

    with pytest.warns(UserWarning, match="changed since upload"):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)

    assert bucket.get_object("k") == new_data
    assert uploads(bucket, "k") == []
    with pytest.raises(NoSuchUpload):
        list(bucket.list_parts("k", old_upload))


def test_file_changing_during_the_upload_is_not_completed(bucket, tmp_path, cp_dir):
    path, _ = make_file(tmp_path, 3 * PART)

    def touch(done, total):
        if done == total:
            os.utime(path, ns=(1, 1))

    with pytest.raises(ClientError, match="changed while it was being uploaded"):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir, progress=touch)
    assert not bucket.object_exists("k")

    with pytest.warns(UserWarning, match="changed since upload"):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    assert bucket.get_object("k") == path.read_bytes() and uploads(bucket, "k") == []


@pytest.mark.parametrize("when", ["before ListParts", "between ListParts and Complete"])
def test_upload_completed_behind_our_back_is_reported_as_success(
    bucket, oss_bucket, oss_emulator, tmp_path, cp_dir, when
):
    """The answer to a Complete was lost, so the checkpoint still names a spent upload id."""
    path, data = make_file(tmp_path, 3 * PART)
    oss_emulator.add_fault(operation="CompleteMultipartUpload", key="k", times=RETRIES + 1)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    upload_id = stored_checkpoint(cp_dir, path, bucket, "k").upload_id

    def complete_elsewhere(*_):
        if uploads(oss_bucket, "k"):
            parts = list(oss_bucket.list_parts("k", upload_id))
            oss_bucket.complete_multipart_upload("k", upload_id, parts)

    if when == "before ListParts":
        complete_elsewhere()
    completes = oss_emulator.add_fault(
        action="delay", operation="CompleteMultipartUpload", key="k", times=10
    )
    sent = count_part_uploads(oss_emulator, "k")

    result = bucket.resumable_upload(
        "k", path, part_size=PART, checkpoint_dir=cp_dir, progress=complete_elsewhere
    )

    assert result.etag.endswith("-3") and result.crc64 == crc64(data)
    assert result.callback_body is None
    # Between: the other party's Complete, then ours, which found NoSuchUpload.
    assert completes.hits == (0 if when == "before ListParts" else 2)
    assert sent.hits == 0
    assert bucket.get_object("k") == data
    assert os.listdir(cp_dir) == [] and uploads(bucket, "k") == []


def test_upload_aborted_behind_our_back_starts_fresh(bucket, oss_emulator, tmp_path, cp_dir):
    path, data = make_file(tmp_path, 4 * PART)
    fail_part(oss_emulator, "k", 4)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART, threads=1, checkpoint_dir=cp_dir)
    old_upload = stored_checkpoint(cp_dir, path, bucket, "k").upload_id
    bucket.abort_multipart_upload("k", old_upload)

    sent = count_part_uploads(oss_emulator, "k")
    bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)

    assert sent.hits == 4
    assert bucket.get_object("k") == data and uploads(bucket, "k") == []


def test_without_checkpoint_a_failure_aborts_and_nothing_is_written(
    bucket, oss_emulator, tmp_path, cp_dir
):
    path, data = make_file(tmp_path, 4 * PART)
    fail_part(oss_emulator, "k", 2)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint=False, checkpoint_dir=cp_dir)
    assert uploads(bucket, "k") == []

    bucket.resumable_upload("k", path, part_size=PART, checkpoint=False, checkpoint_dir=cp_dir)
    assert bucket.get_object("k") == data
    assert not cp_dir.exists()


def test_unreadable_checkpoint_is_replaced_with_a_warning(bucket, tmp_path, cp_dir):
    path, data = make_file(tmp_path, 2 * PART)
    store = checkpoint_path(cp_dir, os.path.realpath(path), bucket.name, "k")
    store.parent.mkdir(parents=True)
    store.write_text('{"magic": "ossemu-resumable-upload", "version": 1, "data": {}')
    with pytest.warns(UserWarning, match="unreadable checkpoint"):
        bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    assert bucket.get_object("k") == data
    assert os.listdir(cp_dir) == []


def test_headers_apply_to_the_object_and_forbid_overwrite_reaches_complete(
    bucket, tmp_path, cp_dir
):
    path, _ = make_file(tmp_path, 2 * PART)
    headers = {"Content-Type": "text/csv", "x-oss-meta-color": "blue"}
    bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir, headers=headers)
    meta = bucket.head_object("k")
    assert meta.content_type == "text/csv" and meta.metadata == {"color": "blue"}

    with pytest.raises(ServerError) as info:
        bucket.resumable_upload(
            "k",
            path,
            part_size=PART,
            checkpoint=False,
            headers={"x-oss-forbid-overwrite": "true"},
        )
    assert info.value.status == 409 and info.value.code == "FileAlreadyExists"
    assert uploads(bucket, "k") == []  # nothing could resume it, so it was aborted


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"threads": 0}, ClientError), ({"part_size": -1}, ClientError)],
)
def test_bad_arguments_are_refused_before_any_request(bucket, tmp_path, kwargs, error):
    path, _ = make_file(tmp_path, 10)
    with pytest.raises(error):
        bucket.resumable_upload("k", path, checkpoint=False, **kwargs)


def test_missing_file_raises_file_not_found(bucket, tmp_path):
    with pytest.raises(FileNotFoundError):
        bucket.resumable_upload("k", tmp_path / "absent.bin", checkpoint_dir=tmp_path)


def test_callback_vars_without_callback_are_refused_before_any_request(bucket, tmp_path):
    path, _ = make_file(tmp_path, 3 * PART)
    with pytest.raises(ClientError, match="callback_vars need a callback"):
        bucket.resumable_upload("k", path, part_size=PART, callback_vars={"v": "1"})
    assert uploads(bucket, "k") == []


def test_empty_file_becomes_an_empty_object(bucket, tmp_path, cp_dir):
    path, _ = make_file(tmp_path, 0)
    trace = []
    result = bucket.resumable_upload(
        "empty", path, checkpoint_dir=cp_dir, progress=lambda d, t: trace.append((d, t))
    )
    assert result.crc64 == 0 and bucket.get_object("empty") == b""
    assert trace == [(0, 0)]


def test_checkpoint_defaults_to_the_user_cache_dir(bucket, oss_emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path, data = make_file(tmp_path, 2 * PART + 1)
    fail_part(oss_emulator, "k", 2)
    with pytest.raises(ServerError):
        bucket.resumable_upload("k", path, part_size=PART)
    default_dir = tmp_path / "cache" / "ossemu" / "checkpoints"
    assert stored_checkpoint(default_dir, path, bucket, "k").parts.keys() == {1, 3}

    bucket.resumable_upload("k", path, part_size=PART)
    assert bucket.get_object("k") == data and os.listdir(default_dir) == []


def test_combined_crc_mismatch_on_complete_raises_and_drops_the_checkpoint(
    scripted_server, tmp_path, cp_dir
):
    """A server whose object CRC disagrees with its parts' CRCs (the emulator never does)."""
    path, _ = make_file(tmp_path, 2 * PART + 1)

    def respond(seen):
        if seen.method == "POST" and "uploads" in seen.path:
            xml = b"<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
            return scripted_server.Reply(200, {}, xml + b"</InitiateMultipartUploadResult>")
        if seen.method == "PUT":
            headers = {"ETag": f'"{seen.crc64:032X}"', "x-oss-hash-crc64ecma": str(seen.crc64)}
            return scripted_server.Reply(200, headers)
        return scripted_server.Reply(200, {"ETag": '"X-3"', "x-oss-hash-crc64ecma": "12345"})

    scripted_server.respond = respond
    with scripted_server.client() as client, pytest.raises(InconsistentError) as info:
        client.get_bucket("bkt").resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    assert info.value.server_crc == 12345
    assert info.value.client_crc == crc64(path.read_bytes())
    assert os.listdir(cp_dir) == []


def test_the_checkpoint_is_not_rewritten_per_part_yet_ends_with_every_landed_part(
    bucket, oss_emulator, tmp_path, cp_dir, monkeypatch
):
    """With an hour between rewrites, the file lists no part while parts land one by one; when
    part 6 fails, the final rewrite still records the five that landed."""
    monkeypatch.setattr("ossemu.client.part_upload.SAVE_INTERVAL", 3600.0)
    path, data = make_file(tmp_path, 5 * PART + 10)
    fail_part(oss_emulator, "k", 6)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        recorded = stored_checkpoint(cp_dir, path, bucket, "k")
        seen.append(len(recorded.parts) if recorded else -1)

    with pytest.raises(ServerError):
        bucket.resumable_upload(
            "k", path, part_size=PART, threads=1, checkpoint_dir=cp_dir, progress=progress
        )
    assert seen and set(seen) == {0}
    recorded = stored_checkpoint(cp_dir, path, bucket, "k")
    assert sorted(recorded.parts) == [1, 2, 3, 4, 5]

    result = bucket.resumable_upload("k", path, part_size=PART, checkpoint_dir=cp_dir)
    assert bucket.get_object("k") == data and result.etag.endswith("-6")
