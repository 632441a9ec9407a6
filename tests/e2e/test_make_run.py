"""`make run` is `ossemu dev`: emulator + receiver, the seed's bucket ready, Ctrl-C stops both."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

from ossemu.client import Callback, CallbackError, Client


def test_dev_starts_both_creates_examplebucket_and_stops_cleanly(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ossemu.emulator",
            "dev",
            "--port",
            "0",
            "--receiver-port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        emulator = re.match(r"ossemu listening on (\S+) ", proc.stdout.readline()).group(1)
        receiver = re.match(
            r"callback receiver listening on (\S+)$", proc.stdout.readline().strip()
        ).group(1)
        with Client(emulator, "ossemu-dev-key", "ossemu-dev-secret") as client:
            bucket = client.get_bucket("examplebucket")
            result = bucket.put_object(
                "files/hello",
                b"hello",
                callback=Callback(url=receiver, query={"user": "put_object"}),
            )
            assert result.callback_json() == {"Status": "OK"}
            with pytest.raises(CallbackError, match=r"Error status : 500\."):
                bucket.put_object("files/fails", b"x", callback=Callback(url=receiver + "/fail/"))
            assert bucket.get_object("files/fails") == b"x", "a 203 keeps the object"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "Traceback" not in err
    assert "POST /?user=put_object verified" in out, "the console line shows the whole target"
