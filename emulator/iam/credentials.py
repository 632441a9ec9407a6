"""The one credential lookup: long-term keys from the config, temporary ones from their token.

``protocol.auth`` calls :meth:`Credentials.lookup` with the key id and the SecurityToken the
request carried, and gets the secret to check the signature with plus the session policy. The
check order follows docs/direct-upload.md section 5.2: key -> token present and genuine -> token
bound to this key -> expiry; the signature is checked afterwards by the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..protocol.auth import Credential, Principal
from ..protocol.errors import Forbidden
from .tokens import SessionClaims, TokenSeal, new_key_pair

STS_PREFIX = "STS."


class CredentialError(Exception):
    """Why a key id and token do not resolve; OSS and STS each render ``reason`` their way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: reason -> the OSS error code (docs/direct-upload.md section 5.2).
OSS_CODES = {
    "unknown-key": "InvalidAccessKeyId",
    "missing-token": "InvalidAccessKeyId",
    "invalid-token": "InvalidSecurityToken",
    "token-mismatch": "AccessKeyIdAndSecurityTokenNotMatch",
    "token-expired": "SecurityTokenExpired",
    "unexpected-token": "InvalidSecurityToken",
}


@dataclass(frozen=True)
class TemporaryCredentials:
    """What AssumeRole hands out."""

    access_key_id: str
    secret: str
    security_token: str
    expiration: float


class Credentials:
    """Long-term keys (``{id: secret}``) and the STS sessions sealed by ``seal``."""

    def __init__(
        self, long_term: Mapping[str, str], seal: TokenSeal, now: Callable[[], float] = time.time
    ) -> None:
        self.long_term = dict(long_term)
        self.seal = seal
        self.now = now

    def resolve(
        self, access_key_id: str, token: str | None
    ) -> tuple[Credential, SessionClaims | None]:
        """The credential for this key and token, or :class:`CredentialError`."""
        if not access_key_id.startswith(STS_PREFIX):
            secret = self.long_term.get(access_key_id)
            if secret is None:
                raise CredentialError("unknown-key")
            if token:
                raise CredentialError("unexpected-token")
            return Credential(secret), None
        if not token:
            raise CredentialError("missing-token")
        claims = self.seal.open(token)
        if claims is None or claims.issuer not in self.long_term:
            raise CredentialError("invalid-token")
        if claims.access_key_id != access_key_id:
            raise CredentialError("token-mismatch")
        if self.now() >= claims.expiration:
            raise CredentialError("token-expired")
        session = f"{claims.role_arn}/{claims.session_name}"
        return Credential(claims.secret, claims.policy, session), claims

    def lookup(self, access_key_id: str, token: str | None) -> Credential:
        """:data:`~emulator.protocol.auth.CredentialLookup` for OSS requests: OSS's errors."""
        try:
            return self.resolve(access_key_id, token)[0]
        except CredentialError as e:
            raise Forbidden(OSS_CODES[e.reason], OSSAccessKeyId=access_key_id) from None

    def issue(
        self,
        issuer: str,
        *,
        duration: int,
        policy: str | None,
        role_arn: str,
        session_name: str,
    ) -> TemporaryCredentials:
        """New temporary credentials for ``issuer`` (a long-term key), valid ``duration`` s."""
        key_id, secret = new_key_pair()
        # Whole seconds: Expiration is printed to the second, and must mean what it says.
        expiration = float(int(self.now()) + duration)
        claims = SessionClaims(key_id, secret, expiration, policy, role_arn, session_name, issuer)
        return TemporaryCredentials(key_id, secret, self.seal.seal(claims), expiration)


def principal_for(
    credentials: Credentials, access_key_id: str, token: str | None
) -> tuple[Principal, str]:
    """The hook for auth paths outside ``protocol.auth`` (the PostObject form's
    ``OSSAccessKeyId`` or ``x-oss-credential`` with its ``x-oss-security-token`` field): the
    principal (with its session policy, for ``authorize``) and the secret to check the form's
    signature with; OSS's 403 for an unknown key or a bad, foreign or expired token. An empty
    token counts as none, as oss2's form example sends one."""
    credential = credentials.lookup(access_key_id, token or None)
    return Principal.of(access_key_id, credential), credential.secret
