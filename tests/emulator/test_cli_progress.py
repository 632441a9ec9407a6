"""The put/get progress bar: redraws cleanly, shows speed and ETA, then a "completing" phase."""

import io
import re
import time

from ossemu.emulator.cli.progress import TransferBar, human_size, parse_size

MIB = 1024 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def frames(stream: io.StringIO) -> list[str]:
    return [f for f in _ANSI.sub("", stream.getvalue()).replace("\n", "\r").split("\r") if f]


def test_the_bar_shows_bytes_speed_and_eta_then_completing_then_done():
    out = io.StringIO()
    with TransferBar(out, "put big.bin", "completing + callback") as bar:
        bar(50 * MIB, 200 * MIB)
        time.sleep(0.3)  # two redraws of rich's own thread
        bar(100 * MIB, 200 * MIB)
        time.sleep(0.3)
        bar(200 * MIB, 200 * MIB)
        time.sleep(0.3)  # waiting for Complete and the callback: the spinner keeps turning
        bar.finish()
    shown = frames(out)
    midway = [f for f in shown if "100.0/200.0 MiB" in f]
    assert midway and "put big.bin" in midway[-1]
    assert re.search(r" \d+(\.\d)? [KMG]iB/s \d:\d\d:\d\d$", midway[-1].rstrip()), midway[-1]
    assert any(f.split()[1:3] == ["completing", "+"] for f in shown), shown
    final = shown[-1].rstrip()
    assert final.startswith("done put big.bin ") and "200.0/200.0 MiB" in final


def test_a_redraw_never_leaves_a_stale_tail():
    out = io.StringIO()
    with TransferBar(out, "get k", "saving") as bar:
        bar(1023, 200 * MIB)
        bar(200 * MIB, 200 * MIB)
        bar.finish()
    raw = out.getvalue()
    # Each redraw erases the line before drawing: no "MiBB" of a longer earlier text.
    assert "\x1b[2K" in raw and "MiBB" not in _ANSI.sub("", raw)


def test_an_interrupted_transfer_says_stopped_and_keeps_its_count():
    out = io.StringIO()
    with TransferBar(out, "put big.bin") as bar:
        bar(30 * MIB, 200 * MIB)
        bar.finish("stopped")
    assert frames(out)[-1].startswith("stopped put big.bin") and "30.0/200.0 MiB" in frames(out)[-1]


def test_sizes_read_and_print_in_binary_units():
    assert parse_size("16MiB") == 16 * MIB
    assert human_size(200 * MIB) == "200.0 MiB"
