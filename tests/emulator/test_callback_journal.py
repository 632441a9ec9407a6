"""The callback journal: one sqlite file that every emulator process on a data dir shares."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import threading

from ossemu.emulator.callbacks import CallbackJournal


def entry(bucket: str, key: str, **extra: object) -> dict:
    return {"bucket": bucket, "key": key, "outcome": "ok", **extra}


def test_entries_come_back_oldest_first_and_filter_by_bucket_and_key(tmp_path):
    journal = CallbackJournal(tmp_path / "journal.sqlite")
    journal.record(entry("b1", "a.txt", n=1))
    journal.record(entry("b2", "a.txt", n=2))
    journal.record(entry("b1", "c.txt", n=3))
    journal.record(entry("b1", "a.txt", n=4))
    assert [e["n"] for e in journal.entries()] == [1, 2, 3, 4]
    assert [e["n"] for e in journal.entries(bucket="b1")] == [1, 3, 4]
    assert [e["n"] for e in journal.entries(key="a.txt")] == [1, 2, 4]
    assert [e["n"] for e in journal.entries("b1", "a.txt")] == [1, 4]
    assert journal.entries("nope") == []


def test_entries_round_trip_nested_and_unicode_values(tmp_path):
    journal = CallbackJournal(tmp_path / "journal.sqlite")
    recorded = entry("b", "目录/文件.txt", attempts=[{"headers": [["Host", "h"]], "body": "é"}])
    journal.record(recorded)
    assert journal.entries() == [recorded]


def test_clear_forgets_everything(tmp_path):
    journal = CallbackJournal(tmp_path / "journal.sqlite")
    journal.record(entry("b", "k"))
    journal.clear()
    assert journal.entries() == []
    journal.record(entry("b", "k2"))
    assert [e["key"] for e in journal.entries()] == ["k2"]


def test_two_journals_on_one_file_share_entries(tmp_path):
    path = tmp_path / "data" / "journal.sqlite"
    first, second = CallbackJournal(path), CallbackJournal(path)
    first.record(entry("b", "from-first"))
    second.record(entry("b", "from-second"))
    assert [e["key"] for e in first.entries()] == ["from-first", "from-second"]
    second.clear()
    assert first.entries() == []


def test_concurrent_writers_lose_nothing(tmp_path):
    journal = CallbackJournal(tmp_path / "journal.sqlite")

    def write(writer: int) -> None:
        own = CallbackJournal(journal.path)
        for n in range(25):
            own.record(entry("b", f"{writer}-{n}"))

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [e["key"] for e in journal.entries()]
    assert sorted(keys) == sorted(f"{w}-{n}" for w in range(4) for n in range(25))
    for writer in range(4):
        own = [k for k in keys if k.startswith(f"{writer}-")]
        assert own == [f"{writer}-{n}" for n in range(25)]


def test_an_entry_written_by_another_process_is_visible(tmp_path):
    path = tmp_path / "journal.sqlite"
    journal = CallbackJournal(path)
    script = (
        "import sys; from ossemu.emulator.callbacks.journal import CallbackJournal;"
        "CallbackJournal(sys.argv[1]).record({'bucket': 'b', 'key': 'other-process'})"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    assert journal.entries("b") == [{"bucket": "b", "key": "other-process"}]


def test_the_journal_keeps_only_the_newest_entries(tmp_path):
    journal = CallbackJournal(tmp_path / "journal.sqlite", keep=50)
    for n in range(230):
        journal.record({"bucket": "b", "key": f"k{n}", "n": n})
    kept = [e["n"] for e in journal.entries()]
    # trimmed every 5 inserts: the newest 50, plus at most the 4 added since the last trim
    assert kept == list(range(230 - len(kept), 230)) and 50 <= len(kept) < 55
    assert journal.entries(bucket="b", key="k229")[0]["n"] == 229
    assert journal.entries(bucket="b", key="k0") == []


def test_the_default_journal_keeps_ten_thousand_entries(tmp_path):
    assert CallbackJournal(tmp_path / "journal.sqlite").keep == 10_000


def test_newest_pages_walk_back_and_filter_by_outcome(tmp_path):
    journal = CallbackJournal(tmp_path / "j.sqlite3")
    ids = [
        journal.record({"bucket": "b", "key": f"k{i}", "outcome": "failed" if i % 3 else "ok"})
        for i in range(10)
    ]
    first = journal.newest(limit=4)
    assert [entry_id for entry_id, _ in first] == ids[:-5:-1]
    older = journal.newest(before=first[-1][0], limit=100)
    assert [entry_id for entry_id, _ in older] == ids[-5::-1]
    assert [e["key"] for _, e in journal.newest("b", outcome="ok")] == ["k9", "k6", "k3", "k0"]
    assert journal.newest("b", "k6", "failed") == []
    assert journal.get(ids[2]) == {"bucket": "b", "key": "k2", "outcome": "failed"}
    assert journal.get(ids[-1] + 1) is None


def test_a_journal_from_before_the_outcome_column_is_filled_in(tmp_path):
    path = tmp_path / "old.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, bucket TEXT,"
            " key TEXT, entry TEXT NOT NULL)"
        )
        for outcome in ("ok", "failed"):
            db.execute(
                "INSERT INTO deliveries (bucket, key, entry) VALUES ('b', 'k', ?)",
                (json.dumps({"outcome": outcome}),),
            )
        db.commit()
    journal = CallbackJournal(path)
    assert [e["outcome"] for _, e in journal.newest(outcome="failed")] == ["failed"]
    assert len(journal.newest()) == 2
