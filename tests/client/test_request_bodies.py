"""Request bodies and progress: what is replayable, what is sized, and monotonic progress."""

from __future__ import annotations

import io
import os
import threading

import pytest

from ossemu.client import ClientError
from ossemu.client.body import ProgressReporter, SizedRequestBody, make_body


def test_progress_is_monotonic_under_concurrent_updates():
    calls: list[tuple[int, int | None]] = []
    reporter = ProgressReporter(lambda done, total: calls.append((done, total)), 80_000)

    def work() -> None:
        for _ in range(1000):
            reporter.add(10)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert calls[-1] == (80_000, 80_000)


def test_replayed_body_does_not_move_progress_backwards():
    calls: list[int] = []
    body = make_body(b"x" * 10, lambda done, total: calls.append(done))
    assert body is not None
    body.read(6)
    body.rewind()
    body.read(4)
    body.read(6)
    assert calls == [6, 10]
    assert body.crc.length == 10


@pytest.mark.parametrize("data", [b"", "", None])
def test_empty_data_means_no_body(data):
    assert make_body(data) is None


def test_bytes_and_seekable_files_are_sized_and_replayable(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        f.seek(4)
        body = make_body(f)
        assert isinstance(body, SizedRequestBody) and len(body) == 6 and body.replayable
        assert body.read(100) == b"456789"
        body.rewind()
        assert body.read(2) == b"45"


def test_pipes_and_iterators_stream_once():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        body = make_body(pipe)
        assert body is not None and not body.replayable
        assert not isinstance(body, SizedRequestBody)
        assert b"".join(body) == b"piped"
        with pytest.raises(ClientError):
            body.rewind()
    chunks = make_body(iter([b"ab", "cd", bytearray(b"ef")]))
    assert chunks is not None and chunks.read(1) == b"a" and b"".join(chunks) == b"bcdef"


@pytest.mark.parametrize("bad", [io.StringIO("text"), 42, object()])
def test_unsupported_sources_are_client_errors(bad):
    with pytest.raises(ClientError):
        make_body(bad)


def test_a_file_that_shrinks_mid_upload_is_reported(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        body = make_body(f)
        assert body is not None
        os.truncate(path, 4)
        assert body.read(4) == b"0123"
        with pytest.raises(ClientError, match="4 of 10 bytes"):
            body.read(4)
