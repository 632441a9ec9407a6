"""CRC-64/XZ: the published vectors, and mismatches caught against a server that lies."""

from __future__ import annotations

import pytest

from ossemu.client import InconsistentError, PartResult, combine, crc64
from ossemu.client.crc import Crc64

DATA = b"Anything you're good at contributes to happiness."
DATA_CRC = 108247482078852440


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"123456789", 11051210869376104954),
        (b"", 0),
        (b"a", 3675645893302102789),
        (b"hello world", 5981764153023615706),
        (DATA, DATA_CRC),
    ],
)
def test_crc64_matches_published_vectors(data, value):
    assert crc64(data) == value


def test_streaming_and_combine_agree_with_the_whole():
    running = Crc64()
    for piece in (b"12345", b"67890"):
        running.update(piece)
    whole = crc64(b"1234567890")
    assert running.value == whole == 12811388247244714686
    assert combine(crc64(b"12345"), crc64(b"67890"), 5) == whole


def answer_with_crc(server, crc: int | None, body: bytes = b""):
    def respond(seen):
        headers = {"ETag": '"E"'}
        if crc is not None:
            headers["x-oss-hash-crc64ecma"] = str(crc)
        return server.Reply(200, headers, body if seen.method == "GET" else b"")

    return respond


def test_upload_crc_mismatch_raises_with_both_values(scripted_server):
    scripted_server.respond = answer_with_crc(scripted_server, DATA_CRC + 1)
    with scripted_server.client() as client, pytest.raises(InconsistentError) as info:
        client.get_bucket("bkt").put_object("k", DATA)
    assert (info.value.client_crc, info.value.server_crc) == (DATA_CRC, DATA_CRC + 1)
    assert info.value.request_id


def test_upload_crc_match_is_reported_on_the_result(scripted_server):
    scripted_server.respond = answer_with_crc(scripted_server, DATA_CRC)
    with scripted_server.client() as client:
        assert client.get_bucket("bkt").put_object("k", DATA).crc64 == DATA_CRC


@pytest.mark.parametrize("options", [{"enable_crc": False}, {}])
def test_check_is_skipped_when_disabled_or_header_absent(scripted_server, options):
    crc = DATA_CRC + 1 if options else None
    scripted_server.respond = answer_with_crc(scripted_server, crc)
    with scripted_server.client(**options) as client:
        client.get_bucket("bkt").put_object("k", DATA)


def test_upload_part_crc_mismatch_raises(scripted_server):
    scripted_server.respond = answer_with_crc(scripted_server, 1)
    with scripted_server.client() as client, pytest.raises(InconsistentError):
        client.get_bucket("bkt").upload_part("k", "UP", 1, DATA)


def test_complete_checks_the_combined_part_crcs(scripted_server):
    parts = [
        PartResult(1, "A", 5, crc64(b"12345")),
        PartResult(2, "B", 5, crc64(b"67890")),
    ]
    scripted_server.respond = answer_with_crc(scripted_server, crc64(b"1234567899"))
    with scripted_server.client() as client, pytest.raises(InconsistentError) as info:
        client.get_bucket("bkt").complete_multipart_upload("k", "UP", parts)
    assert info.value.client_crc == crc64(b"1234567890")


def test_download_crc_mismatch_raises_in_every_mode(scripted_server, tmp_path):
    scripted_server.respond = answer_with_crc(scripted_server, DATA_CRC ^ 1, DATA)
    target = tmp_path / "out.bin"
    with scripted_server.client() as client:
        bucket = client.get_bucket("bkt")
        with pytest.raises(InconsistentError):
            bucket.get_object("k")
        with bucket.get_object("k", stream=True) as stream, pytest.raises(InconsistentError):
            stream.read()
        with pytest.raises(InconsistentError):
            bucket.get_object("k", to_file=target)
    assert list(tmp_path.iterdir()) == []


def test_download_with_right_crc_and_ranges_are_fine(scripted_server):
    scripted_server.respond = answer_with_crc(scripted_server, DATA_CRC, DATA)
    with scripted_server.client() as client:
        bucket = client.get_bucket("bkt")
        assert bucket.get_object("k") == DATA
    scripted_server.respond = lambda seen: scripted_server.Reply(
        206,
        {"x-oss-hash-crc64ecma": str(DATA_CRC), "Content-Range": f"bytes 0-3/{len(DATA)}"},
        DATA[:4],
    )
    with scripted_server.client() as client:
        assert client.get_bucket("bkt").get_object("k", byte_range=(0, 3)) == DATA[:4]
    assert scripted_server.requests[-1].headers["range"] == "bytes=0-3"
