"""Resumable uploads across processes: a killed uploader resumes; a second one is turned away.

The child is a real Python process running the SDK against the test's emulator. A ``delay``
fault on one part holds it mid-upload, so the parent acts while the child is provably inside
the upload (the fault's ``hits`` says the stalled request has arrived).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from ossemu.client import Callback, Checkpoint, ClientError
from ossemu.client.checkpoint import checkpoint_path

PART = 100 * 1024
PARTS = 6
STALL = 20.0  # seconds the stalled part sleeps in the emulator; the child is killed long before

CHILD = """
import json, sys
from ossemu.client import Callback, Client
a = json.loads(sys.argv[1])
with Client(a["url"], a["ak"], a["sk"]) as client:
    client.get_bucket(a["bucket"]).resumable_upload(
        a["key"], a["path"], part_size=a["part_size"], threads=1,
        checkpoint_dir=a["checkpoint_dir"], callback=Callback(a["callback_url"]),
    )
print("finished")
"""


@pytest.fixture
def upload(oss_emulator, oss_bucket, callback_receiver, tmp_path):
    path = tmp_path / "payload.bin"
    data = random.Random(5).randbytes(PARTS * PART - 1000)
    path.write_bytes(data)
    args = {
        "url": oss_emulator.url,
        "ak": oss_emulator.access_key_id,
        "sk": oss_emulator.access_key_secret,
        "bucket": oss_bucket.name,
        "key": "backups/payload.bin",
        "path": str(path),
        "part_size": PART,
        "checkpoint_dir": str(tmp_path / "checkpoints"),
        "callback_url": callback_receiver.url,
    }
    store = checkpoint_path(
        args["checkpoint_dir"], os.path.realpath(path), oss_bucket.name, args["key"]
    )
    return args, data, store


def start_child(args):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition, child, what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` while the child lives (the timeout only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if child.poll() is not None:
            out, err = child.communicate()
            raise AssertionError(f"child exited ({child.returncode}) before {what}:\n{out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def kill(child) -> None:
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL


def recorded_parts(store) -> set[int]:
    try:
        checkpoint = Checkpoint.load(store)
    except ValueError:
        return set()
    return set(checkpoint.parts) if checkpoint else set()


def test_killed_upload_resumes_to_the_exact_object_with_one_callback(
    upload, oss_emulator, oss_bucket, callback_receiver
):
    args, data, store = upload
    stall = oss_emulator.add_fault(
        action="delay", operation="UploadPart", key=args["key"], part_number=4, delay=STALL
    )
    child = start_child(args)
    try:
        wait_until(lambda: stall.hits == 1, child, "part 4 reached the emulator")
        wait_until(lambda: recorded_parts(store) == {1, 2, 3}, child, "parts 1-3 recorded")
    finally:
        kill(child)

    sent = oss_emulator.add_fault(
        action="delay", operation="UploadPart", key=args["key"], times=10**6
    )
    callback_receiver.respond_with(body=b'{"resumed":true}')
    callback = Callback(callback_receiver.url, body="op=${operation}&size=${size}&etag=${etag}")
    result = oss_bucket.resumable_upload(
        args["key"],
        args["path"],
        part_size=PART,
        checkpoint_dir=args["checkpoint_dir"],
        callback=callback,
    )

    assert sent.hits == PARTS - 3
    assert result.callback_json() == {"resumed": True}
    assert oss_bucket.get_object(args["key"]) == data
    (received,) = callback_receiver.log
    assert received.form == {
        "op": "CompleteMultipartUpload",
        "size": str(len(data)),
        "etag": result.etag,
    }
    assert result.etag.endswith(f"-{PARTS}")
    assert len(oss_emulator.callbacks(key=args["key"])) == 1
    assert not store.exists()
    assert list(oss_bucket.list_multipart_uploads()) == []


def test_second_uploader_of_the_same_checkpoint_is_refused(
    upload, oss_emulator, oss_bucket, callback_receiver
):
    args, data, store = upload
    stall = oss_emulator.add_fault(
        action="delay", operation="UploadPart", key=args["key"], part_number=2, delay=STALL
    )
    child = start_child(args)
    try:
        wait_until(lambda: stall.hits == 1, child, "part 2 reached the emulator")
        with pytest.raises(ClientError, match="Another upload is already using"):
            oss_bucket.resumable_upload(
                args["key"], args["path"], part_size=PART, checkpoint_dir=args["checkpoint_dir"]
            )
        assert store.exists()
    finally:
        kill(child)

    # The kernel dropped the dead child's lock: the next uploader takes over.
    oss_bucket.resumable_upload(
        args["key"], args["path"], part_size=PART, checkpoint_dir=args["checkpoint_dir"]
    )
    assert oss_bucket.get_object(args["key"]) == data
    assert not store.exists()
    assert callback_receiver.log == []


BIG_CHILD = """
import json, sys
import ossemu.client.part_upload
from ossemu.client import Client
ossemu.client.part_upload.SAVE_INTERVAL = 3600.0  # the checkpoint keeps only the upload id
a = json.loads(sys.argv[1])
with Client(a["url"], a["ak"], a["sk"]) as client:
    client.get_bucket(a["bucket"]).resumable_upload(
        a["key"], a["path"], part_size=a["part_size"], threads=4,
        checkpoint_dir=a["checkpoint_dir"],
    )
"""


def test_upload_killed_at_35_percent_resends_only_the_parts_the_server_lacks(
    upload, oss_emulator, oss_bucket, tmp_path
):
    args, _, store = upload
    mib, parts = 1024 * 1024, 48
    data = random.Random(9).randbytes(parts * mib - 12345)
    with open(args["path"], "wb") as out:
        out.write(data)
    args["part_size"] = mib
    # Four workers: one stalls on part 10, the others on 18-20, so 1-17 but 10 have landed.
    stalls = [
        oss_emulator.add_fault(
            action="delay", operation="UploadPart", key=args["key"], part_number=n, delay=STALL
        )
        for n in (10, 18, 19, 20)
    ]
    child = subprocess.Popen([sys.executable, "-c", BIG_CHILD, json.dumps(args)], text=True)
    try:
        wait_until(lambda: all(s.hits == 1 for s in stalls), child, "four parts stalled")
    finally:
        kill(child)
    checkpoint = Checkpoint.load(store)
    assert checkpoint.parts == {}
    held = {p.number for p in oss_bucket.list_parts(args["key"], checkpoint.upload_id)}
    assert held == set(range(1, 18)) - {10}

    counters = {
        n: oss_emulator.add_fault(
            action="delay", operation="UploadPart", key=args["key"], part_number=n, times=10**6
        )
        for n in range(1, parts + 1)
    }
    result = oss_bucket.resumable_upload(
        args["key"], args["path"], part_size=mib, checkpoint_dir=args["checkpoint_dir"]
    )

    assert all(c.hits <= 1 for c in counters.values())
    assert {n for n, c in counters.items() if c.hits} == set(range(1, parts + 1)) - held
    assert result.etag.endswith(f"-{parts}") and oss_bucket.get_object(args["key"]) == data
    assert not store.exists()
