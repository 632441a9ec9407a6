"""The put/get progress bar as a user sees it in a terminal (stderr on a pty), and not elsewhere.

Also where `get` puts the bytes: a new file with the user's umask, an existing one keeping its
mode, as `cp` or `curl -o` would.
"""

from __future__ import annotations

import os
import pty
import stat
import subprocess

import pytest

from tests.e2e.cli_support import cli_env, ossemu_script, plain

MIB = 1024 * 1024


def run_on_a_terminal(*argv: str, env: dict[str, str], umask: int | None = None):
    """`ossemu ARGV` with stderr on a pseudo-terminal: (exit code, stdout, what stderr drew)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [ossemu_script(), *argv],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        text=True,
        umask=-1 if umask is None else umask,
    )
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out, drawn.decode("utf-8", "replace")


def frames_of(drawn: str) -> list[str]:
    """Each redraw of the bar, in order."""
    return [f.strip() for f in plain(drawn).replace("\n", "\r").split("\r") if f.strip()]


@pytest.fixture
def env(oss_emulator, tmp_path):
    return cli_env(oss_emulator, XDG_CACHE_HOME=str(tmp_path / "cache"), COLUMNS="120")


def test_put_draws_speed_eta_and_waits_visibly_for_the_callback(
    env, oss_bucket, callback_receiver, tmp_path
):
    callback_receiver.respond_with(delay=1.0)  # a slow app server: the "completing" phase
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(6 * MIB))
    code, out, drawn = run_on_a_terminal(
        "put",
        str(src),
        f"oss://{oss_bucket.name}/big.bin",
        "--multipart-threshold",
        "2MiB",
        "--part-size",
        "1MiB",
        "--callback-url",
        callback_receiver.url,
        env=env,
    )
    assert code == 0, drawn
    frames = frames_of(drawn)
    completing = [f for f in frames if "completing + callback" in f]
    assert len(completing) >= 3, "the spinner turns while OSS waits for the app server"
    assert "6.0/6.0 MiB" in completing[-1]
    final = frames[-1]
    assert final.startswith("done put big.bin ") and "6.0/6.0 MiB" in final
    assert "MiB/s" in final and final.endswith("0:00:00")
    assert out.splitlines()[-1] == 'callback answer: {"Status":"OK"}'


def test_get_draws_a_bar_and_quiet_draws_none(env, oss_bucket, tmp_path):
    oss_bucket.put_object("data.bin", os.urandom(3 * MIB))
    target = tmp_path / "data.bin"
    code, out, drawn = run_on_a_terminal(
        "get", f"oss://{oss_bucket.name}/data.bin", str(target), env=env
    )
    assert code == 0
    final = frames_of(drawn)[-1]
    assert final.startswith("done get data.bin ") and "3.0/3.0 MiB" in final
    assert out == f"oss://{oss_bucket.name}/data.bin -> {target} ({3 * MIB} bytes)\n"

    code, _, drawn = run_on_a_terminal(
        "get", f"oss://{oss_bucket.name}/data.bin", str(target), "--quiet", env=env
    )
    assert (code, drawn) == (0, "")


def test_no_bar_when_stderr_is_not_a_terminal(env, oss_bucket, tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(MIB))
    for argv in (
        ["put", str(src), f"oss://{oss_bucket.name}/f.bin"],
        ["get", f"oss://{oss_bucket.name}/f.bin", str(tmp_path / "back.bin")],
    ):
        result = subprocess.run([ossemu_script(), *argv], capture_output=True, text=True, env=env)
        assert (result.returncode, result.stderr) == (0, "")


def test_get_gives_a_new_file_the_umask_and_keeps_an_existing_files_mode(env, oss_bucket, tmp_path):
    oss_bucket.put_object("notes.txt", b"v1")
    fresh = tmp_path / "fresh.txt"
    code, _, _ = run_on_a_terminal(
        "get", f"oss://{oss_bucket.name}/notes.txt", str(fresh), "-q", env=env, umask=0o022
    )
    assert code == 0 and stat.S_IMODE(fresh.stat().st_mode) == 0o644
    group = tmp_path / "group.txt"
    run_on_a_terminal(
        "get", f"oss://{oss_bucket.name}/notes.txt", str(group), "-q", env=env, umask=0o002
    )
    assert stat.S_IMODE(group.stat().st_mode) == 0o664

    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    code, _, _ = run_on_a_terminal(
        "get", f"oss://{oss_bucket.name}/notes.txt", str(kept), "-q", env=env, umask=0o022
    )
    assert code == 0 and kept.read_bytes() == b"v1"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
