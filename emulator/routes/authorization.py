"""The one decision whether a principal may call an operation: header, URL, form or anonymous.

Authentication (who signed) happens before; this runs once the operation is known. A form
upload's principal comes from the policy signature inside its body, so PostObject's handler
asks here once it has read the form's fields; every other route is decided by ``dispatch``.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote

from ..protocol.auth import Principal, deny_anonymous
from ..services import Services
from .acl import check_anonymous

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
    copy_source: str | None = None,
) -> None:
    """Allow, or raise OSS's AccessDenied (``operation`` None: no such operation).

    Every bucket is owned by the one long-term key: a signed caller may do anything. An
    anonymous one may call what needs no signature, and what the bucket's and the object's
    ACLs open to everyone (``protocol/acl.py`` decides): reads where they are public-read,
    writes, form uploads included, where they are public-read-write. A CopyObject
    (``copy_source``) also needs its source readable. Policies plug in here.
    """
    if not principal.anonymous or needs == "none":
        return
    if operation is None or bucket is None:
        raise deny_anonymous()
    check_anonymous(operation, bucket, key)
    if copy_source and operation == "PutObject":
        src_bucket, _, src_key = unquote(copy_source).lstrip("/").partition("/")
        check_anonymous("GetObject", src_bucket, src_key or None)
