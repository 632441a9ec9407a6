"""Fixtures shared by the emulator's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ossemu.emulator.storage import Storage


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    """A fresh data dir with one bucket, ``bkt``."""
    s = Storage(tmp_path / "data")
    s.create_bucket("bkt")
    yield s
    s.close()
