"""The resumable upload's checkpoint: part layout, a trustworthy format, one owner at a time."""

from __future__ import annotations

import json
import os
import random

import pytest

from ossemu.client import Checkpoint, ClientError
from ossemu.client.checkpoint import (
    DEFAULT_PART_SIZE,
    MIN_PART_SIZE,
    Fingerprint,
    checkpoint_path,
    default_checkpoint_dir,
    locked,
    part_size_for,
)
from ossemu.client.crc import crc64
from ossemu.client.models import PartResult

KIB, MIB, GIB = 1024, 1024**2, 1024**3


def sample(parts: dict[int, PartResult] | None = None, size: int = 350 * KIB) -> Checkpoint:
    return Checkpoint(
        "bkt",
        "dir/key.bin",
        "/data/key.bin",
        "0004B9894A22E5B1888A1E29F823****",
        100 * KIB,
        Fingerprint(size, 1_700_000_000_123_456_789, 4242),
        parts or {},
    )


@pytest.mark.parametrize(
    ("file_size", "requested", "expected"),
    [
        (0, None, DEFAULT_PART_SIZE),
        (10 * MIB, None, DEFAULT_PART_SIZE),
        (10_000 * 8 * MIB, None, 8 * MIB),
        (10_000 * 8 * MIB + 1, None, 8 * MIB + 1),
        (5 * MIB, 1, MIN_PART_SIZE),
        (5 * MIB, 256 * KIB, 256 * KIB),
        (10_000 * MIN_PART_SIZE + 1, MIN_PART_SIZE, MIN_PART_SIZE + 1),
    ],
)
def test_part_size_grows_to_stay_within_10000_parts(file_size, requested, expected):
    size = part_size_for(file_size, requested)
    assert size == expected
    assert -(-file_size // size) <= 10_000


@pytest.mark.parametrize("file_size", [97 * GIB + 7, 100 * GIB - 1, 48 * 1024 * GIB])
def test_default_part_size_never_needs_10001_parts(file_size):
    assert -(-file_size // part_size_for(file_size)) <= 10_000


@pytest.mark.parametrize("requested", [0, -5, 1.5])
def test_part_size_must_be_a_positive_integer(requested):
    with pytest.raises(ClientError, match="part_size"):
        part_size_for(MIB, requested)


def test_a_file_too_big_for_10000_parts_of_5_gib_is_refused():
    with pytest.raises(ClientError, match="at most"):
        part_size_for(10_000 * 5 * GIB + 1)


def test_parts_cover_the_file_with_a_short_last_part():
    checkpoint = sample()
    assert checkpoint.part_count == 4
    assert [checkpoint.part_range(n) for n in (1, 2, 4)] == [
        (0, 100 * KIB),
        (100 * KIB, 100 * KIB),
        (300 * KIB, 50 * KIB),
    ]
    checkpoint.parts[2] = PartResult(2, "E2", 100 * KIB, 7)
    assert checkpoint.missing() == [1, 3, 4]
    assert checkpoint.done_bytes() == 100 * KIB


def test_combined_crc_is_the_whole_files_crc():
    data = random.Random(1).randbytes(350 * KIB)
    checkpoint = sample()
    for number in range(1, 5):
        offset, length = checkpoint.part_range(number)
        chunk = data[offset : offset + length]
        checkpoint.parts[number] = PartResult(number, f"E{number}", length, crc64(chunk))
    assert checkpoint.combined_crc() == crc64(data)
    del checkpoint.parts[3]
    assert checkpoint.combined_crc() is None


def test_checkpoint_survives_a_round_trip_through_disk(tmp_path):
    original = sample({1: PartResult(1, "ABC", 100 * KIB, 2**64 - 1), 3: PartResult(3, "DEF", 100)})
    path = tmp_path / "cp" / "upload.json"
    original.save(path)
    loaded = Checkpoint.load(path)
    assert loaded == original
    assert loaded.parts[3].crc64 is None
    assert os.listdir(path.parent) == ["upload.json"]  # no temp file left behind


def test_document_is_versioned_and_checksummed(tmp_path):
    document = json.loads(sample().to_json())
    assert document["magic"] == "ossemu-resumable-upload"
    assert document["version"] == 1
    assert len(document["checksum"]) == 64
    assert document["data"]["fingerprint"] == {
        "size": 350 * KIB,
        "mtime_ns": 1_700_000_000_123_456_789,
        "inode": 4242,
    }


def tampered(change) -> str:
    document = json.loads(sample({1: PartResult(1, "ABC", 100 * KIB, 5)}).to_json())
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        ("[]", "not an ossemu checkpoint"),
        (tampered(lambda d: d.update(magic="other")), "not an ossemu checkpoint"),
        (tampered(lambda d: d.update(version=2)), "unsupported checkpoint version 2"),
        (tampered(lambda d: d["data"]["parts"][0].__setitem__(2, "EVIL")), "checksum"),
        (tampered(lambda d: d["data"].update(upload_id="other")), "checksum"),
    ],
)
def test_a_checkpoint_that_cannot_be_trusted_says_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        Checkpoint.from_json(text)


def test_a_missing_checkpoint_loads_as_none(tmp_path):
    assert Checkpoint.load(tmp_path / "absent.json") is None


def test_saving_replaces_the_previous_checkpoint(tmp_path):
    path = tmp_path / "upload.json"
    checkpoint = sample()
    checkpoint.save(path)
    checkpoint.parts[1] = PartResult(1, "ABC", 100 * KIB, 9)
    checkpoint.save(path)
    assert Checkpoint.load(path).parts == {1: PartResult(1, "ABC", 100 * KIB, 9)}
    assert sorted(os.listdir(tmp_path)) == ["upload.json"]


def test_checkpoint_dir_with_or_without_trailing_slash_is_the_same_place(tmp_path):
    plain = checkpoint_path(tmp_path / "cp", "/data/f.bin", "bkt", "k")
    slashed = checkpoint_path(f"{tmp_path}/cp/", "/data/f.bin", "bkt", "k")
    assert plain == slashed
    assert plain.parent == tmp_path / "cp"


def test_checkpoint_name_depends_on_file_bucket_and_key(tmp_path):
    names = {
        checkpoint_path(tmp_path, file, bucket, key).name
        for file, bucket, key in [
            ("/data/f.bin", "bkt", "k"),
            ("/data/g.bin", "bkt", "k"),
            ("/data/f.bin", "other", "k"),
            ("/data/f.bin", "bkt", "k2"),
        ]
    }
    assert len(names) == 4


def test_default_checkpoint_dir_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_checkpoint_dir() == tmp_path / "xdg" / "ossemu" / "checkpoints"
    assert checkpoint_path(None, "/f", "b", "k").parent == default_checkpoint_dir()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_checkpoint_dir() == tmp_path / "home" / ".cache" / "ossemu" / "checkpoints"


def test_fingerprint_is_size_mtime_ns_and_inode(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)
    os.utime(path, ns=(1_000_000_000_000_000_001, 1_000_000_000_000_000_001))
    fingerprint = Fingerprint.of(os.stat(path))
    assert fingerprint == Fingerprint(10, 1_000_000_000_000_000_001, os.stat(path).st_ino)


def test_a_held_checkpoint_refuses_a_second_owner(tmp_path):
    path = tmp_path / "cp" / "upload.json"
    with (
        locked(path),
        pytest.raises(ClientError, match="Another upload is already using"),
        locked(path),
    ):
        pass
    with locked(path):
        pass


def test_lock_file_stays_with_the_checkpoint_and_goes_with_it(tmp_path):
    path = tmp_path / "upload.json"
    with locked(path):
        sample().save(path)
    assert sorted(os.listdir(tmp_path)) == ["upload.json", "upload.json.lock"]
    with locked(path):
        path.unlink()
    assert os.listdir(tmp_path) == []
