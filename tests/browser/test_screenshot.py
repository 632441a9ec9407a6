"""``make screenshot``: the README's picture of the inspector is drawn from a live emulator,
so it stays current; here it is drawn into a scratch file and checked."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_make_screenshot_draws_the_inspector_journal(browser, tmp_path):
    out = tmp_path / "inspector.png"
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "screenshot", f"OUT={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert f"{out}: " in result.stdout
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size[0] >= 1200 and picture.size[1] >= 600
        # The failed delivery's red badge is in the picture (the 203 stands out).
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert any(rgb == (0xC6, 0x28, 0x28) and count > 200 for count, rgb in colours)
    assert out.stat().st_size < 200_000
