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
from ..protocol.http import parse_copy_source
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
    headers: Mapping[str, str] | None = None,
    args: Mapping[str, str] | None = None,
    remote_addr: str | None = None,
) -> None:
    """Allow, or raise OSS's AccessDenied (``operation`` None: no such operation, so an
    unsigned caller learns nothing of the API).

    Every bucket is owned by the one long-term key: its signed callers may do anything, and an
    STS session what its session policy allows. An anonymous caller may call what needs no
    signature, and what the bucket's and the object's ACLs open to everyone
    (``protocol/acl.py`` decides): reads where they are public-read, writes, form uploads
    included, where they are public-read-write. A copy (CopyObject, UploadPartCopy) also needs its
    source readable.
    """
    if needs == "none":
        return
    headers = headers or {}
    if principal.anonymous:
        if operation is None or bucket is None:
            raise deny_anonymous()
        check_anonymous(operation, bucket, key)
        copy_source = headers.get("x-oss-copy-source")
        if copy_source and operation in ("PutObject", "UploadPart"):  # CopyObject, UploadPartCopy
            check_anonymous("GetObject", *parse_copy_source(copy_source))
        return
    if operation is None or principal.policy is None:
        return
    pairs = iam.needs(operation, bucket, key, headers, svc.config.region)
    context = iam.context_of(operation, args or {}, headers, remote_addr, svc.clock.now())
    iam.check(principal, pairs, context)
