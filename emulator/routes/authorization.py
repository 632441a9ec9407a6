"""The one decision whether a principal may call an operation: header, URL, form or anonymous.

Authentication (who signed) happens before; this runs once the operation is known. A form
upload's principal comes from the policy signature inside its body, so PostObject's handler
asks here once it has read the form's fields; every other route is decided by ``dispatch``.
"""

from __future__ import annotations

from typing import Literal

from ..protocol.auth import Principal, deny_anonymous
from ..services import Services

#: How a caller of the operation proves who it is: a header or URL signature, a signed POST
#: policy in the form, or nothing (a CORS preflight).
AuthKind = Literal["signature", "post-policy", "none"]


def authorize(
    svc: Services, principal: Principal, needs: AuthKind, *, bucket: str | None = None
) -> None:
    """Allow, or raise OSS's AccessDenied.

    Today every bucket is private and owned by the one long-term key: a signed caller may do
    anything, an anonymous one only what needs no signature. An anonymous form upload needs a
    public-read-write bucket, which needs bucket ACLs: until they exist it is refused as OSS
    refuses it on a private bucket. Bucket ACLs and policies plug in here.
    """
    if principal.anonymous and needs in ("signature", "post-policy"):
        raise deny_anonymous()
