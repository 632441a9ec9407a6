"""The emulator's callback key and signature, checked independently with ``cryptography``."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ossemu.emulator.callbacks import load_or_create_private_key, public_key_pem, sign_callback
from ossemu.emulator.callbacks.signing import string_to_sign

# The documented vector (docs/oss-protocol.md 4.2): OSS's own 512-bit key and signature.
DOC_PUBLIC_KEY = b"""-----BEGIN PUBLIC KEY-----
MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKs/JBGzwUB2aVht4crBx3oIPBLNsjGs
C0fTXv+nvlmklvkcolvpvXLTjaxUHR3W9LXxQ2EHXAJfCB+6H2YF1k8CAwEAAQ==
-----END PUBLIC KEY-----
"""
DOC_SIGNATURE = (
    "kKQeGTRccDKyHB3H9vF+xYMSrmhMZjzzl2/kdD1ktNVgbWEfYTQG0G2SU/RaHBovRCE8OkQDjC3uG33esH2txA=="
)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return load_or_create_private_key(tmp_path_factory.mktemp("key") / "callback-key.pem")


def verify(pem: bytes, signature: str, data: bytes) -> None:
    load_pem_public_key(pem).verify(
        base64.b64decode(signature), data, padding.PKCS1v15(), hashes.MD5()
    )


def test_string_to_sign_matches_the_documented_vector():
    data = string_to_sign("/index.php", "id=1&index=2", b"bucket=yonghu-test")
    assert data == b"/index.php?id=1&index=2\nbucket=yonghu-test"
    verify(DOC_PUBLIC_KEY, DOC_SIGNATURE, data)


def test_string_to_sign_decodes_the_path_but_keeps_the_query_raw():
    data = string_to_sign("/cb%20dir/%E6%9D%AD%2Fx+y", "name=%E6%9D%AD&a=b+c", b"body")
    assert data == "/cb dir/杭/x+y?name=%E6%9D%AD&a=b+c\nbody".encode()
    assert string_to_sign("/cb", "", b"") == b"/cb\n"


def test_callback_signature_verifies_with_the_published_public_key(key):
    signature = sign_callback(key, "/index.php", "id=1&index=2", b"bucket=yonghu-test")
    verify(public_key_pem(key), signature, b"/index.php?id=1&index=2\nbucket=yonghu-test")
    with pytest.raises(InvalidSignature):
        verify(public_key_pem(key), signature, b"/index.php?id=1&index=2\nbucket=yonghu-tesT")


def test_public_key_pem_is_a_subject_public_key_info_pem(key):
    pem = public_key_pem(key)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert load_pem_public_key(pem).key_size == 2048


def test_key_is_created_once_private_and_reused(tmp_path):
    path = tmp_path / "keys" / "callback.pem"
    first = load_or_create_private_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.key_size == 2048
    again = load_or_create_private_key(path)
    assert public_key_pem(again) == public_key_pem(first)
    assert sorted(p.name for p in path.parent.iterdir()) == ["callback.pem", "callback.pem.lock"]


def test_processes_racing_to_create_the_key_all_get_the_same_one(tmp_path):
    path = tmp_path / "callback.pem"
    script = (
        "import sys; from pathlib import Path;"
        "from ossemu.emulator.callbacks.signing import load_or_create_private_key, public_key_pem;"
        "sys.stdout.buffer.write(public_key_pem(load_or_create_private_key(Path(sys.argv[1]))))"
    )
    racers = [
        subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert outputs[0].startswith(b"-----BEGIN PUBLIC KEY-----")
    assert outputs.count(outputs[0]) == 3
    assert public_key_pem(load_or_create_private_key(path)) == outputs[0]


def test_a_file_that_is_not_an_rsa_key_is_refused(tmp_path):
    path = tmp_path / "callback.pem"
    path.write_text("not a key")
    with pytest.raises(ValueError):
        load_or_create_private_key(path)
