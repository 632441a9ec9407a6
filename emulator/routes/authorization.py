"""The one decision whether a principal may call an operation: header, URL, form or anonymous.

Authentication (who signed) happens before; this runs once the operation is known. A form
upload's principal comes from the policy signature inside its body, so PostObject's handler
asks here once it has read the form's fields (and knows the key); every other route is decided
by ``dispatch``. An STS session is held to its session policy (``emulator.iam``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ..iam import authorize as iam
from ..protocol.auth import Principal, deny_anonymous
from ..services import Services

#: How a caller of the operation proves who it is: a header or URL signature, a signed POST
#: policy in the form, or nothing (a CORS preflight).
AuthKind = Literal["signature", "post-policy", "none"]


def authorize(
    svc: Services,
    principal: Principal,
    needs: AuthKind,
    *,
    operation: str | None = None,
    bucket: str | None = None,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
    args: Mapping[str, str] | None = None,
    remote_addr: str | None = None,
) -> None:
    """Allow, or raise OSS's AccessDenied.

    Every bucket is owned by the one long-term key: its signed callers may do anything, an
    anonymous one only what needs no signature, and an STS session what its session policy
    allows. ``operation`` None means no such operation: only the anonymity check applies, so
    an unsigned caller learns nothing of the API.
    """
    if principal.anonymous and needs in ("signature", "post-policy"):
        raise deny_anonymous()
    if operation is None or principal.policy is None:
        return
    headers, args = headers or {}, args or {}
    pairs = iam.needs(operation, bucket, key, headers, svc.config.region)
    context = iam.context_of(operation, args, headers, remote_addr, svc.clock.now())
    iam.check(principal, pairs, context)
