"""A full disk is an OSS-style error, not a traceback: ``507 InsufficientStorage``.

OSS documents no error for a full disk (its capacity is not the caller's concern). The emulator
answers 507 (RFC 4918's "cannot store the representation", MinIO's choice for a full drive too)
rather than 500 ``InternalError``: the client learns the request can be sent again once space is
freed, and one access-log line says so instead of a traceback per request. Every write already
leaves the data consistent when it fails (temp files are removed, the transaction rolls back).
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ..protocol.errors import OssError

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def is_disk_full(error: BaseException) -> bool:
    """True for an OSError or SQLite error that means "no space left to write"."""
    if isinstance(error, OSError):
        return error.errno in _FULL
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
            "database or disk is full" in str(error)
        )
    return False


@contextmanager
def reported_as_full() -> Iterator[None]:
    """Turn "no space left" raised inside the block into ``InsufficientStorage``."""
    try:
        yield
    except (OSError, sqlite3.Error) as e:
        if is_disk_full(e):
            raise OssError("InsufficientStorage") from None
        raise
