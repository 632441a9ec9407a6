"""The shared test clock: one offset in the data dir that every process reads."""

from __future__ import annotations

import math
import time

import pytest

from ossemu.emulator.clock import MAX_OFFSET, SharedClock


def test_two_processes_views_of_one_data_dir_agree_on_the_moved_time(tmp_path):
    mover, other = SharedClock(tmp_path / "clock"), SharedClock(tmp_path / "clock")
    assert other.offset == 0.0
    mover.advance(3600)
    mover.advance(1.5)
    assert other.offset == 3601.5
    assert other.now() - time.time() == pytest.approx(3601.5, abs=1)


def test_setting_the_offset_to_zero_puts_the_clock_back(tmp_path):
    clock = SharedClock(tmp_path / "clock")
    clock.set_offset(-86400)
    assert clock.now() < time.time() - 86000
    clock.set_offset(0)
    assert clock.offset == 0.0


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, MAX_OFFSET * 2])
def test_an_offset_that_cannot_be_a_date_is_refused_and_the_clock_is_unchanged(tmp_path, bad):
    clock = SharedClock(tmp_path / "clock")
    clock.set_offset(60)
    with pytest.raises(ValueError):
        clock.set_offset(bad)
    assert clock.offset == 60


def test_a_damaged_clock_file_reads_as_wall_time_instead_of_failing_requests(tmp_path):
    (tmp_path / "clock").write_bytes(b"12345 deadbeef\n")  # wrong checksum
    assert SharedClock(tmp_path / "clock").offset == 0.0
    (tmp_path / "clock").write_bytes(b"\xff" * 48)
    assert SharedClock(tmp_path / "clock").offset == 0.0


def test_a_request_finishing_after_its_app_closed_reads_the_moved_time(tmp_path):
    """A server thread may still answer while its app shuts down: it gets the clock as it was
    at the close, never a ``ValueError`` from the closed mapping."""
    clock = SharedClock(tmp_path / "clock")
    clock.set_offset(3600.0)
    clock.close()
    assert clock.offset == 3600.0
    assert abs(clock.now() - (time.time() + 3600.0)) < 5
