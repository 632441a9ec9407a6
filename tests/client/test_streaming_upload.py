"""Uploads stream: iterators go chunked with bounded memory, files keep Content-Length."""

from __future__ import annotations

import threading
import tracemalloc

from ossemu.client.crc import Crc64

CHUNK = 64 * 1024
TOTAL = 48 * 1024 * 1024


def generated_chunks(expected: Crc64):
    for i in range(TOTAL // CHUNK):
        chunk = bytes([i % 251]) * CHUNK
        expected.update(chunk)
        yield chunk


def test_iterator_upload_streams_chunked_in_bounded_memory(streaming_server):
    expected = Crc64()
    seen_progress: list[tuple[int, int | None]] = []
    with streaming_server.client() as client:
        bucket = client.get_bucket("bkt")
        tracemalloc.start()
        try:
            bucket.put_object(
                "big.bin",
                generated_chunks(expected),
                progress=lambda done, total: seen_progress.append((done, total)),
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    seen = streaming_server.requests[0]
    assert seen.headers["transfer-encoding"] == "chunked"
    assert (seen.size, seen.crc64) == (TOTAL, expected.value)
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {TOTAL}-byte upload"
    done = [d for d, _ in seen_progress]
    assert done == sorted(done) and done[-1] == TOTAL
    assert {t for _, t in seen_progress} == {None}


def test_file_upload_sends_content_length_and_reports_total(streaming_server, tmp_path):
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n" * 100_000)
    progress: list[tuple[int, int | None]] = []
    lock = threading.Lock()

    def record(done: int, total: int | None) -> None:
        with lock:
            progress.append((done, total))

    with streaming_server.client() as client:
        client.get_bucket("bkt").put_object("r.csv", file=path, progress=record)
    seen = streaming_server.requests[0]
    assert seen.headers["content-length"] == "400000"
    assert seen.headers["content-type"] == "text/csv"
    assert "transfer-encoding" not in seen.headers
    assert progress[-1] == (400_000, 400_000)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_unknown_extension_falls_back_to_octet_stream(scripted_server):
    with scripted_server.client() as client:
        client.get_bucket("bkt").put_object("noext", b"x")
        client.get_bucket("bkt").put_object("page.html", "<p>hi</p>")
    types = [r.headers["content-type"] for r in scripted_server.requests]
    assert types == ["application/octet-stream", "text/html"]
    assert scripted_server.requests[1].body == b"<p>hi</p>"
