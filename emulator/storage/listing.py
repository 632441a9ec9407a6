"""ListObjects over the index: one page in UTF-8 byte order, delimiters folded into prefixes.

A common prefix is jumped over with one indexed seek (its successor string), so a page costs
about ``max_keys`` rows however many keys sit under each folded prefix.
"""

from __future__ import annotations

import sqlite3

from .catalog import meta_from_row
from .models import ListPage, ObjectMeta


def list_objects(
    db: sqlite3.Connection, bucket: str, prefix: str, marker: str, delimiter: str, max_keys: int
) -> ListPage:
    """The page after ``marker`` of the keys under ``prefix`` (the bucket is known to exist)."""
    entries: list[ObjectMeta | str] = []
    cursor, inclusive = (prefix, True) if marker < prefix else (marker, False)
    folded = marker.find(delimiter, len(prefix)) if delimiter and marker.startswith(prefix) else -1
    if folded >= 0:  # the previous page already returned this common prefix: skip past it
        after = _successor(marker[: folded + len(delimiter)])
        if after is None:
            return ListPage([], [], False, "")
        cursor, inclusive = after, True
    upper = _successor(prefix)
    truncated = False
    while not truncated:
        limit = max_keys - len(entries) + 1
        rows = _scan(db, bucket, cursor, inclusive, upper, limit)
        jumped = False
        for row in rows:
            if len(entries) == max_keys:
                truncated = True
                break
            key = row["key"]
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                entries.append(common)
                nxt = _successor(common)
                if nxt is None:
                    return _page(entries, False)
                cursor, inclusive, jumped = nxt, True, True
                break
            entries.append(meta_from_row(row))
            cursor, inclusive = key, False
        if not jumped and len(rows) < limit:
            break
    return _page(entries, truncated)


def _scan(
    db: sqlite3.Connection, bucket: str, cursor: str, inclusive: bool, upper: str | None, limit: int
) -> list[sqlite3.Row]:
    sql = f"SELECT * FROM objects WHERE bucket = ? AND key {'>=' if inclusive else '>'} ?"
    args: list[object] = [bucket, cursor]
    if upper is not None:
        sql += " AND key < ?"
        args.append(upper)
    return db.execute(sql + " ORDER BY key LIMIT ?", (*args, limit)).fetchall()


def _page(entries: list[ObjectMeta | str], truncated: bool) -> ListPage:
    objects = [e for e in entries if isinstance(e, ObjectMeta)]
    prefixes = [e for e in entries if isinstance(e, str)]
    last = entries[-1] if entries else ""
    next_marker = (last.key if isinstance(last, ObjectMeta) else last) if truncated else ""
    return ListPage(objects, prefixes, truncated, next_marker)


def _successor(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (None: no bound)."""
    while prefix:
        code = ord(prefix[-1]) + 1
        if code == 0xD800:
            code = 0xE000  # skip surrogates: they have no UTF-8 form
        if code <= 0x10FFFF:
            return prefix[:-1] + chr(code)
        prefix = prefix[:-1]
    return None
