"""The put/get progress line redraws cleanly: a shorter text never leaves a stale tail."""

import io

from ossemu.emulator.cli.progress import ProgressBar, human_size, parse_size


def test_a_shorter_redraw_covers_the_previous_text():
    out = io.StringIO()
    bar = ProgressBar(out, width=4)
    bar(1023, None)
    bar(1024, None)
    bar.close()
    first, second = out.getvalue().strip("\n").split("\r")[1:]
    assert first == "1023 B" and second.startswith("1.0 KiB")
    assert len(second) >= len(first), "the old text would show through"


def test_sizes_read_and_print_in_binary_units():
    assert parse_size("16MiB") == 16 * 1024 * 1024
    assert human_size(200 * 1024 * 1024) == "200.0 MiB"
