"""``ossemu serve --restore-seconds``: how long a RestoreObject takes on the emulator's clock."""

from __future__ import annotations

import pytest

from ossemu.emulator.cli import UserError, _parser, config_from_args
from ossemu.emulator.config import EmulatorConfig


def test_restore_seconds_defaults_to_a_minute_and_is_set_by_the_flag():
    assert config_from_args(_parser().parse_args(["serve"])).restore_seconds == 60.0
    args = _parser().parse_args(["serve", "--restore-seconds", "2.5"])
    assert config_from_args(args).restore_seconds == 2.5
    assert EmulatorConfig().restore_seconds == 60.0


def test_a_negative_restore_time_is_refused():
    with pytest.raises(UserError):
        config_from_args(_parser().parse_args(["serve", "--restore-seconds", "-1"]))
