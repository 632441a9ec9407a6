"""The emulator's RSA key and the callback signature OSS puts in the ``authorization`` header.

OSS signs ``unquote(path) + ("?" + query) + "\\n" + body`` with RSASSA-PKCS1-v1_5 over MD5 and
publishes the public key at the URL in ``x-oss-pub-key-url`` (docs/oss-protocol.md 4.2). OSS's
private key is secret, so the emulator makes its own 2048-bit key (``cryptography`` no longer
generates the 512-bit size OSS uses) and serves the public half itself.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import unquote_to_bytes

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from filelock import FileLock


def load_or_create_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The key stored at ``path``; created once (mode 0600), even when processes race."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock"):
            if not path.exists():
                _write_new_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an RSA private key")
    return key


def _write_new_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def public_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """The PEM (SubjectPublicKeyInfo) an app server downloads to check signatures."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def string_to_sign(path: str, query: str, body: bytes) -> bytes:
    """OSS's formula: the path percent-decoded, the query raw, one LF, the body bytes."""
    query_part = f"?{query}".encode() if query else b""
    return unquote_to_bytes(path) + query_part + b"\n" + body


def sign_callback(key: rsa.RSAPrivateKey, path: str, query: str, body: bytes) -> str:
    """The ``authorization`` header value: base64 RSA-PKCS1v15-MD5 of :func:`string_to_sign`."""
    signature = key.sign(string_to_sign(path, query, body), padding.PKCS1v15(), hashes.MD5())
    return base64.b64encode(signature).decode("ascii")
