"""Temporary credentials sealed into their own SecurityToken.

The token is ``ossemu1.`` + base64url(nonce + AES-GCM(claims JSON)). The key is 32 random bytes
kept in the data dir (created once, atomically), so any worker and a restarted emulator can
open a token, and a client can neither read nor forge one. Nothing is stored per session.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import string
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "ossemu1."
_AAD = b"ossemu sts session v1"
_ALPHABET = string.ascii_letters + string.digits
#: A token longer than this is not one of ours (a 2 KB policy seals to well under it).
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class SessionClaims:
    """What a SecurityToken binds: the STS key, its secret, expiry and session policy."""

    access_key_id: str
    secret: str
    expiration: float
    #: The session policy JSON given to AssumeRole, or None (the role's rights, i.e. all).
    policy: str | None
    role_arn: str
    session_name: str
    #: The long-term key that called AssumeRole.
    issuer: str


def new_key_pair() -> tuple[str, str]:
    """A fresh ``STS.``-prefixed AccessKeyId and its secret, shaped like STS's."""
    key_id = "STS." + "".join(secrets.choice(_ALPHABET) for _ in range(28))
    return key_id, "".join(secrets.choice(_ALPHABET) for _ in range(44))


class TokenSeal:
    """Seals :class:`SessionClaims` into a token and opens it again."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def in_dir(cls, data_dir: Path) -> TokenSeal:
        """The data dir's seal, its key created on first use (the first writer wins a race)."""
        path = data_dir / "sts-seal.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(AESGCM.generate_key(bit_length=256))
            try:
                os.link(tmp, path)  # fails if another process got there first: use theirs
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return cls(path.read_bytes())

    def seal(self, claims: SessionClaims) -> str:
        nonce = os.urandom(12)
        plain = json.dumps(asdict(claims), separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, plain, _AAD)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, token: str) -> SessionClaims | None:
        """The claims, or None for anything this seal did not make (forged, cut, altered)."""
        if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        body = token[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = self._aead.decrypt(raw[:12], raw[12:], _AAD)
            return SessionClaims(**json.loads(plain))
        except (binascii.Error, ValueError, InvalidTag, TypeError):
            return None
