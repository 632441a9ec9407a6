"""Which parts of a resumed upload the server already holds, judged against the local file.

The checkpoint is rewritten at most once a second, so after a crash it can lag far behind
ListParts (down to the upload id alone). The server's list is the truth about what landed; the
local file is the truth about what should have. A listed part is kept when its size is the
part's range in the file and its ETag (a part's ETag is the MD5 of its bytes) and CRC-64, when
listed, match those bytes. A part the checkpoint recorded with the listed ETag is trusted
without re-reading it: the file's fingerprint is unchanged, and it was read to send that part.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from .checkpoint import Checkpoint
from .crc import Crc64
from .models import PartResult

_READ = 1024 * 1024


def reconcile(
    checkpoint: Checkpoint, listed: Iterable[PartResult], fd: int, threads: int = 1
) -> dict[int, PartResult]:
    """The parts to keep, by number: listed by the server and holding the file's bytes.

    Reads (with ``threads`` readers) only the listed parts the checkpoint has no matching
    record of; each kept part carries the CRC-64 computed from the local bytes.
    """
    kept: dict[int, PartResult] = {}
    to_read: list[PartResult] = []
    for part in listed:
        if not 1 <= part.number <= checkpoint.part_count:
            continue
        length = checkpoint.part_range(part.number)[1]
        if part.size is not None and part.size != length:
            continue
        recorded = checkpoint.parts.get(part.number)
        if recorded is not None and _same_record(recorded, part, length):
            kept[part.number] = recorded
        else:
            to_read.append(part)
    if to_read:
        with ThreadPoolExecutor(max(1, min(threads, len(to_read))), "oss-verify") as pool:
            for match in pool.map(lambda p: _local_match(checkpoint, p, fd), to_read):
                if match is not None:
                    kept[match.number] = match
    return kept


def _same_record(recorded: PartResult, listed: PartResult, length: int) -> bool:
    if recorded.size != length or listed.etag.upper() != recorded.etag.upper():
        return False
    return listed.crc64 is None or recorded.crc64 is None or listed.crc64 == recorded.crc64


def _local_match(checkpoint: Checkpoint, listed: PartResult, fd: int) -> PartResult | None:
    """The listed part as the local file's range, or None if its bytes differ."""
    offset, length = checkpoint.part_range(listed.number)
    md5 = hashlib.md5(usedforsecurity=False)
    crc = Crc64()
    done = 0
    while done < length:
        data = os.pread(fd, min(_READ, length - done), offset + done)
        if not data:
            return None  # the file is shorter than its fingerprint says
        md5.update(data)
        crc.update(data)
        done += len(data)
    if md5.hexdigest().upper() != listed.etag.upper():
        return None
    if listed.crc64 is not None and listed.crc64 != crc.value:
        return None
    return PartResult(listed.number, listed.etag, length, crc.value)
