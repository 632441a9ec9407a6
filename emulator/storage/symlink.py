"""Symlinks: an object row of type ``Symlink`` with no bytes, naming another key of its bucket.

PutSymlink does not look at its target (OSS defers every check to the reads that follow the
link). GET and HEAD through a link answer with the target's bytes, length, ETag, Content-MD5 and
CRC-64; the link's own type (``Symlink``), Content-Type and metadata; and the later of the two
Last-Modified times, as OSS documents for reads through a link. A link whose target is missing
reads as ``404 SymlinkTargetNotExist``; a link to a link, as ``400 InvalidTargetType``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from ..protocol.errors import BadRequest, NotFound
from .catalog import Catalog
from .models import ObjectMeta
from .names import check_object_key

SYMLINK = "Symlink"


def put_symlink(
    catalog: Catalog,
    bucket: str,
    key: str,
    target: str,
    *,
    content_type: str,
    headers: dict[str, str],
    forbid_overwrite: bool,
    acl: str = "default",
) -> ObjectMeta:
    """Make ``key`` a link to ``target`` (which may not exist yet), replacing what was there."""
    check_object_key(key)
    check_object_key(target)
    meta = ObjectMeta(
        bucket=bucket,
        key=key,
        size=0,
        etag=hashlib.md5(target.encode()).hexdigest().upper(),
        crc64=0,
        content_md5="",
        content_type=content_type,
        last_modified=catalog.clock.now(),
        object_type=SYMLINK,
        headers=headers,
        acl=acl,
        symlink_target=target,
    )
    return catalog.commit_object(meta, b"", forbid_overwrite=forbid_overwrite)


def require_symlink(meta: ObjectMeta) -> ObjectMeta:
    """GetSymlink of an object that is not a link is ``400 NotSymlink``."""
    if meta.object_type != SYMLINK:
        raise BadRequest("NotSymlink")
    return meta


def through_link(link: ObjectMeta, target: ObjectMeta | None) -> ObjectMeta:
    """What a read through ``link`` sees of ``target`` (the link's metadata, the target's bytes)."""
    if target is None:
        raise NotFound("SymlinkTargetNotExist", Key=link.key, Target=link.symlink_target)
    if target.object_type == SYMLINK:
        raise BadRequest("InvalidTargetType")
    return replace(
        link,
        size=target.size,
        etag=target.etag,
        crc64=target.crc64,
        content_md5=target.content_md5,
        last_modified=max(link.last_modified, target.last_modified),
        blob=target.blob,
    )
