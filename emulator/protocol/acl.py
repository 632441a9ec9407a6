"""Canned ACLs: their names, the ``AccessControlPolicy`` document, and what they let an
anonymous caller do (docs/direct-upload.md section 3).

Pure: the route layer reads the bucket's and the object's ACL and asks :func:`check_anonymous`.
The object's ACL decides unless it is ``default``, which defers to the bucket's. Reads
(GetObject, HeadObject…) need ``public-read`` or ``public-read-write``; writes need
``public-read-write``; every other operation (bucket configuration, ACLs themselves, listing
uploads) is the owner's alone.
"""

from __future__ import annotations

from typing import Literal

from .errors import Forbidden, invalid_argument
from .xml import Node, render

BUCKET_ACLS = ("private", "public-read", "public-read-write")
OBJECT_ACLS = ("default", *BUCKET_ACLS)
Access = Literal["read", "write"]

#: Operations an ACL can open to anyone, and whether they read or write; the object level ones
#: weigh the object's ACL too. Anything not listed needs the owner's signature.
OBJECT_ACCESS: dict[str, Access] = {
    "GetObject": "read",
    "HeadObject": "read",
    "GetObjectMeta": "read",
    "PutObject": "write",
    "PostObject": "write",
    "DeleteObject": "write",
    "InitiateMultipartUpload": "write",
    "UploadPart": "write",
    "CompleteMultipartUpload": "write",
    "AbortMultipartUpload": "write",
    "ListParts": "write",
}
BUCKET_ACCESS: dict[str, Access] = {
    "ListObjects": "read",
    "DeleteMultipleObjects": "write",
}
OBJECT_DENIED = "You have no right to access this object because of bucket acl."
OPERATION_DENIED = "Anonymous access is forbidden for this operation."


def bucket_acl(value: str | None) -> str:
    """``x-oss-acl`` of PutBucket/PutBucketAcl; anything else is InvalidArgument, as on OSS."""
    if value not in BUCKET_ACLS:
        raise invalid_argument("no such bucket access control exists", "x-oss-acl", value or "")
    return value


def object_acl(value: str | None) -> str:
    """``x-oss-object-acl`` of an upload or PutObjectAcl."""
    if value not in OBJECT_ACLS:
        raise invalid_argument(
            "no such object access control exists", "x-oss-object-acl", value or ""
        )
    return value


def effective(bucket: str, obj: str = "default") -> str:
    """The ACL that decides: the object's, unless it defers to the bucket's."""
    return bucket if obj == "default" else obj


def allows(acl: str, access: Access) -> bool:
    if access == "read":
        return acl in ("public-read", "public-read-write")
    return acl == "public-read-write"


def check_anonymous(operation: str, bucket: str, obj: str = "default") -> None:
    """Raise ``AccessDenied`` unless the ACLs let anyone call ``operation`` (``bucket`` and
    ``obj`` are the bucket's and the object's ACL; ``default`` for an object yet to exist)."""
    access = OBJECT_ACCESS.get(operation) or BUCKET_ACCESS.get(operation)
    if access is None:
        raise Forbidden("AccessDenied", OPERATION_DENIED)
    if not allows(effective(bucket, obj), access):
        raise Forbidden("AccessDenied", OBJECT_DENIED)


def policy_xml(grant: str, owner: list[Node]) -> bytes:
    """GetBucketAcl / GetObjectAcl's ``AccessControlPolicy``."""
    return render(
        "AccessControlPolicy", [("Owner", owner), ("AccessControlList", [("Grant", grant)])]
    )
