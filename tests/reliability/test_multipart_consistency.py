"""Multipart uploads stay consistent under races, and ListMultipartUploads pages as OSS does
(issue 15, "Consistency"). The races are bounded loops against the in-process server.
"""

from __future__ import annotations

import re
import threading
import time
from functools import partial

import pytest

from tests.reliability.helpers import BUCKET
from tests.support import RawResponse

PART = b"p" * (100 * 1024)


def _parts(emulator, key: str, last: bytes = b"end") -> tuple[str, str]:
    upload_id = emulator.upload_id(key)
    etags = []
    for number, body in ((1, PART), (2, last)):
        params = [("partNumber", str(number)), ("uploadId", upload_id)]
        response = emulator.request("PUT", BUCKET, key, params=params, body=body)
        assert response.status == 200, response.body
        etags.append(response.headers["etag"])
    xml = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)
    )
    return upload_id, f"<CompleteMultipartUpload>{xml}</CompleteMultipartUpload>"


def _after(pause: float, call):
    time.sleep(pause)
    return call()


def _together(*calls):
    """Run the calls at the same moment; their answers, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[RawResponse | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_complete_and_abort_racing_on_one_upload_exactly_one_wins(server):
    for round_ in range(100):
        key = f"race/abort-{round_}"
        upload_id, body = _parts(server, key)
        params = [("uploadId", upload_id)]
        pause = (round_ % 10) / 1000  # let the abort start at staggered moments

        complete, abort = _together(
            partial(server.request, "POST", BUCKET, key, params=params, body=body.encode()),
            partial(_after, pause, partial(server.request, "DELETE", BUCKET, key, params=params)),
        )
        stored = server.request("GET", BUCKET, key).status == 200
        outcome = (complete.status, abort.status)
        assert outcome in ((200, 404), (404, 204)), f"round {round_}: {outcome}"
        assert stored == (complete.status == 200), f"round {round_}: {outcome}, stored={stored}"
        loser = abort if complete.status == 200 else complete
        assert loser.code == "NoSuchUpload"


def test_complete_racing_a_reupload_of_the_last_part_never_says_no_such_upload(emulator):
    last = b"l" * (256 * 1024)
    for round_ in range(30):
        key = f"race/reupload-{round_}"
        upload_id, body = _parts(emulator, key, last)
        part = [("partNumber", "2"), ("uploadId", upload_id)]
        complete, _ = _together(
            partial(
                emulator.request,
                "POST",
                BUCKET,
                key,
                params=[("uploadId", upload_id)],
                body=body.encode(),
            ),
            partial(emulator.request, "PUT", BUCKET, key, params=part, body=last),
        )
        assert complete.code != "NoSuchUpload", f"round {round_}: {complete.body[:300]!r}"
        assert complete.status == 200, f"round {round_}: {complete.body[:300]!r}"
        assert emulator.request("GET", BUCKET, key).body == PART + last


# -- ListMultipartUploads pages like ListObjects -------------------------------------------------


def _list(emulator, bucket: str, **params: str) -> tuple[list[str], list[str], str, bool]:
    response = emulator.request("GET", bucket, None, params=[("uploads", ""), *params.items()])
    assert response.status == 200, response.body
    text = response.body.decode()
    keys = re.findall(r"<Upload><Key>([^<]*)</Key>", text)
    prefixes = re.findall(r"<CommonPrefixes><Prefix>([^<]*)</Prefix>", text)
    marker = re.search(r"<NextKeyMarker>([^<]*)</NextKeyMarker>", text)
    truncated = "<IsTruncated>true</IsTruncated>" in text
    return keys, prefixes, marker.group(1) if marker else "", truncated


@pytest.fixture(scope="module")
def uploads(emulator) -> str:
    bucket = "mpu-listing"
    assert emulator.request("PUT", bucket, None).status == 200
    for key in ("a/1", "a/2", "a/3", "b", "c/1", "d"):
        assert emulator.request("POST", bucket, key, params=[("uploads", "")]).status == 200
    return bucket


def test_list_uploads_with_a_delimiter_never_repeats_a_folded_prefix(emulator, uploads):
    seen: list[str] = []
    marker = ""
    for _ in range(10):
        keys, prefixes, marker, truncated = _list(
            emulator, uploads, **{"delimiter": "/", "max-uploads": "1", "key-marker": marker}
        )
        seen += keys + prefixes
        if not truncated:
            break
    assert seen == ["a/", "b", "c/", "d"]


def test_list_uploads_after_a_key_marker_alone_leaves_the_marker_out(emulator, uploads):
    keys, _, _, _ = _list(emulator, uploads, **{"key-marker": "b"})
    assert keys == ["c/1", "d"]
    everything, _, _, _ = _list(emulator, uploads)
    assert everything == ["a/1", "a/2", "a/3", "b", "c/1", "d"]
