"""`make demo` runs the seed story end to end and fails loudly if any step it shows is false."""

from __future__ import annotations

import subprocess
import sys


def test_the_demo_tells_the_callback_story_and_exits_0():
    run = subprocess.run(
        [sys.executable, "-m", "ossemu.emulator.demo"], capture_output=True, text=True, timeout=120
    )
    assert (run.returncode, run.stderr) == (0, ""), run.stdout + run.stderr
    out = run.stdout
    for line in [
        "== 1. PutObject with an upload callback ==",
        "  POST /?user=put_object",
        "  verified: True (RSA signature checked with the emulator's public key)",
        "  body:     bucket=examplebucket&object=files%2Fhello.txt",
        '  the app\'s JSON: {"Status":"OK"}',
        "== 2. The app server answers 500: HTTP 203 CallbackFailed ==",
        "the uploader got CallbackError: HTTP 203 CallbackFailed: Error status : 500.",
        "the object is stored anyway: get_object -> b'stored even though the callback fails\\n'",
        "== 3. Resumable upload: parts in parallel, one callback on Complete ==",
        "  part 3: 50000 bytes",
        'journal: [["CompleteMultipartUpload", "ok"]]',
        "Every expectation shown above held.",
    ]:
        assert line in out.splitlines(), f"missing {line!r} in:\n{out}"
    assert "operation=CompleteMultipartUpload" in out
    assert "-3 (multipart: '-3' counts the parts)" in out
