"""``make demo``: the upload-callback story end to end, in one process, checking what it shows.

An emulator and a callback receiver on free ports over a throwaway data dir, then: PutObject with
a callback; the same with the app server failing (203, yet the object is stored); a resumable
multipart upload whose one callback comes from CompleteMultipartUpload. Every line printed is
also asserted, so the exit code (0, or 1 at the first broken expectation) makes it a smoke test.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from ossemu.client import Bucket, Callback, CallbackError, Client

from .config import EmulatorConfig
from .receiver import CallbackReceiver
from .server import EmulatorServer

BUCKET = "examplebucket"
PART_SIZE = 100 * 1024  # the smallest part OSS accepts, so a small file still makes 3 parts
BIG_SIZE = 2 * PART_SIZE + 50_000


class DemoFailed(Exception):
    """An expectation the demo shows did not hold."""


def expect(condition: bool, what: str) -> None:
    """Stop the demo with ``what`` unless ``condition`` holds."""
    if not condition:
        raise DemoFailed(what)


def heading(text: str) -> None:
    print(f"\n== {text} ==")


def main() -> int:
    """Run the three scenes; 0 when everything shown was also true."""
    with tempfile.TemporaryDirectory(prefix="ossemu-demo-") as tmp:
        config = EmulatorConfig(data_dir=Path(tmp) / "data", host="127.0.0.1", port=0)
        with EmulatorServer(config) as server, CallbackReceiver("127.0.0.1", 0) as receiver:
            print(f"emulator  {server.url}  (data in a temporary directory)")
            print(f"receiver  {receiver.url}  (plays your app server)")
            with Client(server.url, server.access_key_id, server.access_key_secret) as client:
                try:
                    bucket = client.create_bucket(BUCKET)
                    print(f"created bucket {BUCKET}")
                    put_with_callback(bucket, receiver)
                    failing_callback(bucket, receiver)
                    resumable_with_callback(bucket, receiver, server, Path(tmp))
                    receiver.check()
                except DemoFailed as exc:
                    print(f"\nDEMO FAILED: {exc}")
                    return 1
    print("\nEvery expectation shown above held.")
    return 0


def put_with_callback(bucket: Bucket, receiver: CallbackReceiver) -> None:
    heading("1. PutObject with an upload callback")
    callback = Callback(
        url=receiver.url, query={"user": "put_object"}, body="bucket=${bucket}&object=${object}"
    )
    data = b"hello from the ossemu demo\n"
    print(f"put files/hello.txt ({len(data)} bytes), callbackUrl {callback.callback_url}")
    print(f"  callbackBody {callback.body}")
    result = bucket.put_object("files/hello.txt", data, callback=callback)
    got = receiver.wait_for(1)[0]
    print("the receiver got:")
    print(f"  {got.method} {got.target}")
    print(f"  verified: {got.verified} (RSA signature checked with the emulator's public key)")
    print(f"  body:     {got.body.decode()}")
    expect(got.method == "POST" and got.path == "/", "the callback is a POST to /")
    expect(got.query == {"user": "put_object"}, "the callback URL keeps its query")
    expect(got.verified, f"the callback signature verifies ({got.rejected})")
    expect(got.form == {"bucket": BUCKET, "object": "files/hello.txt"}, "the body is rendered")
    print("the uploader got:")
    print(f"  HTTP {result.status}, etag {result.etag}")
    print(f"  the app's JSON: {(result.callback_body or b'').decode()}")
    expect(result.status == 200, "a successful callback means HTTP 200")
    expect(result.callback_json() == {"Status": "OK"}, "the app's JSON is passed through")


def failing_callback(bucket: Bucket, receiver: CallbackReceiver) -> None:
    heading("2. The app server answers 500: HTTP 203 CallbackFailed")
    receiver.clear()
    receiver.respond_with(500, b'{"Status":"Error"}')
    print("the receiver now answers 500")
    data = b"stored even though the callback fails\n"
    try:
        bucket.put_object("files/failed.txt", data, callback=Callback(url=receiver.url))
    except CallbackError as exc:
        print(f"the uploader got CallbackError: HTTP {exc.status} {exc.code}: {exc.message}")
        expect((exc.status, exc.code) == (203, "CallbackFailed"), "203 CallbackFailed")
        expect(exc.message == "Error status : 500.", "OSS's message names the app's status")
    else:
        raise DemoFailed("a failed callback raises CallbackError")
    expect(len(receiver.wait_for(1)) == 1, "the app server was called once")
    stored = bucket.get_object("files/failed.txt")
    print(f"the object is stored anyway: get_object -> {stored!r}")
    expect(stored == data, "the object is stored despite the failed callback")
    receiver.clear()


def resumable_with_callback(
    bucket: Bucket, receiver: CallbackReceiver, server: EmulatorServer, tmp: Path
) -> None:
    heading("3. Resumable upload: parts in parallel, one callback on Complete")
    path = tmp / "big.bin"
    path.write_bytes(os.urandom(BIG_SIZE))
    sizes = [min(PART_SIZE, BIG_SIZE - offset) for offset in range(0, BIG_SIZE, PART_SIZE)]
    print(f"generated big.bin, {BIG_SIZE} bytes; part size {PART_SIZE}:")
    for number, size in enumerate(sizes, 1):
        print(f"  part {number}: {size} bytes")
    body = "bucket=${bucket}&object=${object}&size=${size}&etag=${etag}&operation=${operation}"
    callback = Callback(url=receiver.url, query={"user": "resumable"}, body=body)
    result = bucket.resumable_upload(
        "files/big.bin", path, part_size=PART_SIZE, threads=2, checkpoint=False, callback=callback
    )
    received = receiver.wait_for(1)
    form = received[0].form or {}
    print(f"the receiver got {len(receiver.log)} callback: {received[0].body.decode()}")
    expect(len(receiver.log) == 1, "one callback for the whole multipart upload")
    expect(form.get("operation") == "CompleteMultipartUpload", "it comes from Complete")
    expect(form.get("size") == str(BIG_SIZE), "${size} is the whole object's size")
    expect(received[0].verified, "the callback signature verifies")
    print(f"etag {result.etag} (multipart: '-{len(sizes)}' counts the parts)")
    expect(result.etag is not None and result.etag.endswith(f"-{len(sizes)}"), "ETag ends -N")
    expect(form.get("etag") == result.etag, "the callback saw the same ETag")
    print(f"the app's JSON: {(result.callback_body or b'').decode()}")
    journal = server.callbacks(bucket=BUCKET, key="files/big.bin")
    print(f"journal: {json.dumps([(e['operation'], e['outcome']) for e in journal])}")
    expect([e["operation"] for e in journal] == ["CompleteMultipartUpload"], "journalled once")
    expect(bucket.get_object("files/big.bin") == path.read_bytes(), "the bytes read back")
    print("read back: identical bytes")


if __name__ == "__main__":
    sys.exit(main())
