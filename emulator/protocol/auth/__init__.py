"""Verify OSS request signatures: V1 and V4, in the ``Authorization`` header or in a presigned URL.

The route layer turns the wire request into a :class:`SignedRequest` and calls
:func:`authenticate`, which yields a :class:`Principal` (anonymous when the request carries no
signature at all); everything here is a pure function of that value, a credential lookup (key id
and SecurityToken -> secret and session policy, see ``emulator.iam``) and the clock's ``now``.
There is one function per spec step (docs/oss-protocol.md section 7), each pinned by the
SDKs' published vectors in ``tests/emulator/test_auth.py``. The client keeps its own signer on
purpose: shared code would hide a signing bug from the emulator that is meant to catch it.

Split by job: ``common`` (the request value, limits, clock checks, errors), ``v1``, ``v4`` and
``presigned`` (both query forms).

Failures raise :class:`~emulator.protocol.errors.OssError` subclasses only, with OSS's codes. A
``SignatureDoesNotMatch`` carries the server's ``StringToSign`` (and, for V4, the
``CanonicalRequest``) so a user can diff it against what their signer produced.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import Forbidden, invalid_argument
from .common import (
    ANONYMOUS_DENIED,
    BAD_HEADER,
    MAX_PRESIGN_SECONDS,
    MAX_SKEW_SECONDS,
    SUBRESOURCES,
    UNSIGNED_PAYLOAD,
    URL_MARKERS,
    V4_ALGORITHM,
    V4_TERMINATOR,
    Credential,
    CredentialLookup,
    SignedRequest,
    long_term,
    token_of,
)
from .presigned import verify_v1_query, verify_v4_query
from .v1 import v1_canonical_resource, v1_signature, v1_string_to_sign, verify_v1_header
from .v4 import (
    v4_canonical_request,
    v4_signature,
    v4_signing_key,
    v4_string_to_sign,
    verify_v4_header,
)


@dataclass(frozen=True)
class Principal:
    """Who a request is from: a long-term key, an STS session (with its session policy), or
    anonymous (``access_key_id`` None)."""

    access_key_id: str | None
    #: The STS session's policy JSON, which authorisation evaluates; None: not narrowed.
    policy: str | None = None
    #: The assumed-role ARN of an STS session.
    session: str | None = None

    @classmethod
    def of(cls, access_key_id: str, credential: Credential) -> Principal:
        return cls(access_key_id, credential.policy, credential.session)

    @property
    def anonymous(self) -> bool:
        return self.access_key_id is None


ANONYMOUS = Principal(None)


#: A credential lookup, or (for tests and tools) a plain dict of long-term key -> secret.
Keys = CredentialLookup | Mapping[str, str]


def authenticate(
    req: SignedRequest,
    keys: Keys,
    *,
    now: float,
    wall: float | None = None,
    region: str | None = None,
) -> Principal:
    """Check the request's OSS signature, if it carries one; a bad one raises.

    ``now`` decides expiry (presigned URLs), and follows a test clock. A signed header's date is
    checked for skew against ``wall`` (default ``now``), the clock the client signed by, so a
    test that moves the emulator's clock forward can still make ordinary calls. ``region`` is
    the server's: a V4 scope naming another is refused, as OSS does (None: any).
    """
    wall = now if wall is None else wall
    lookup = long_term(keys) if isinstance(keys, Mapping) else keys
    authorization = req.headers.get("authorization", "").strip()
    in_url = {name for name, _ in req.query}.intersection(URL_MARKERS)
    if authorization and in_url:
        message = "Use either the Authorization header or a signed URL, not both."
        raise invalid_argument(message, "Authorization", authorization)
    if authorization:
        scheme, _, rest = authorization.partition(" ")
        if scheme == "OSS":
            return Principal.of(*verify_v1_header(req, rest, lookup, wall))
        if scheme == V4_ALGORITHM:
            return Principal.of(*verify_v4_header(req, rest, lookup, wall, region))
        if scheme == "OSS2":
            message = "Signature version OSS2 is not supported here; use V1 (OSS) or V4."
            raise invalid_argument(message, "Authorization", authorization)
        raise invalid_argument(BAD_HEADER, "Authorization", authorization)
    if any(name.startswith("x-oss-") for name in in_url):
        return Principal.of(*verify_v4_query(req, lookup, now, region))
    if in_url:
        return Principal.of(*verify_v1_query(req, lookup, now))
    return ANONYMOUS


def deny_anonymous() -> Forbidden:
    """What an unsigned request gets where a signature is required: every bucket is private."""
    return Forbidden("AccessDenied", ANONYMOUS_DENIED)


def verify_request(req: SignedRequest, keys: Keys, *, now: float | None = None) -> str:
    """Check the request's OSS signature; return the access key id.

    An anonymous request raises ``AccessDenied``: every bucket here is private.
    """
    principal = authenticate(req, keys, now=time.time() if now is None else now)
    if principal.access_key_id is None:
        raise deny_anonymous()
    return principal.access_key_id


__all__ = [
    "ANONYMOUS",
    "Credential",
    "CredentialLookup",
    "MAX_PRESIGN_SECONDS",
    "MAX_SKEW_SECONDS",
    "SUBRESOURCES",
    "UNSIGNED_PAYLOAD",
    "V4_ALGORITHM",
    "V4_TERMINATOR",
    "Principal",
    "SignedRequest",
    "authenticate",
    "deny_anonymous",
    "long_term",
    "token_of",
    "v1_canonical_resource",
    "v1_signature",
    "v1_string_to_sign",
    "v4_canonical_request",
    "v4_signature",
    "v4_signing_key",
    "v4_string_to_sign",
    "verify_request",
]
