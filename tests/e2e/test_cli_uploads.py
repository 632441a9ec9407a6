"""Ctrl-C in the middle of a big `ossemu put`: the command that resumes it, `uploads ls|abort`."""

from __future__ import annotations

import os
import pty
import re
import shlex
import signal
import threading
import time

from tests.e2e.cli_support import cli_env, ossemu_process, plain

MIB = 1024 * 1024


def wait_for_parts(bucket, key: str, count: int) -> list:
    """The unfinished uploads of ``key`` once its first holds ``count`` parts."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        uploads = list(bucket.list_multipart_uploads(key))
        if uploads and len(list(bucket.list_parts(key, uploads[0].upload_id))) >= count:
            return uploads
        time.sleep(0.05)
    raise AssertionError(f"{count} parts did not land in 30 s")


def interrupted_put(oss_emulator, bucket, src, key, tmp_path) -> tuple[str, str, dict[str, str]]:
    """Start `ossemu put` of ``src`` as a child, SIGINT it once parts have landed."""
    env = cli_env(oss_emulator, XDG_CACHE_HOME=str(tmp_path / "cache"))
    del env["OSS_ACCESS_KEY_SECRET"]  # given as a flag instead: it must not be printed back
    oss_emulator.add_fault(
        action="delay", operation="UploadPart", bucket=bucket.name, delay=0.3, times=1000
    )
    argv = ["put", str(src), f"oss://{bucket.name}/{key}", "--part-size", "1MiB"]
    argv += ["--multipart-threshold", "1MiB", "--threads", "2"]
    argv += ["--access-key-secret", oss_emulator.access_key_secret]
    proc = ossemu_process(*argv, env=env)
    try:
        uploads = wait_for_parts(bucket, key, 2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        oss_emulator.clear_faults()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and out == ""
    return err, uploads[0].upload_id, env


def test_ctrl_c_prints_the_command_that_resumes_and_it_does(oss_emulator, oss_bucket, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * MIB))
    err, upload_id, env = interrupted_put(oss_emulator, oss_bucket, src, "big.bin", tmp_path)

    lines = err.splitlines()
    at = lines.index("ossemu: interrupted; the parts sent so far stay on OSS. Resume with:")
    command = lines[at + 1]
    assert command == (
        f"  ossemu put {src} oss://{oss_bucket.name}/big.bin --part-size 1MiB "
        "--multipart-threshold 1MiB --threads 2"
    )
    assert lines[at + 2] == "  (adding your --access-key-secret, left out here)"
    assert oss_emulator.access_key_secret not in err

    with_secret = {**env, "OSS_ACCESS_KEY_SECRET": oss_emulator.access_key_secret}
    listed = ossemu_process("uploads", "ls", f"oss://{oss_bucket.name}", env=with_secret)
    out, _ = listed.communicate(timeout=30)
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  {upload_id}  oss://{oss_bucket.name}/big.bin\n", out
    ), out

    argv = shlex.split(command)[1:] + ["--access-key-secret", oss_emulator.access_key_secret]
    resumed = ossemu_process(*argv, env=env)
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert out.splitlines()[0] == f"oss://{oss_bucket.name}/big.bin"
    assert oss_bucket.get_object("big.bin") == src.read_bytes()
    assert list(oss_bucket.list_multipart_uploads()) == [], f"{upload_id} was completed"


def test_uploads_ls_and_abort_one_or_all(ossemu, oss_bucket, oss_client):
    name = oss_bucket.name
    first = oss_bucket.init_multipart_upload("videos/a.mp4")
    second = oss_bucket.init_multipart_upload("videos/b.mp4")
    third = oss_bucket.init_multipart_upload("other.bin")

    code, out, _ = ossemu("uploads", "ls", f"oss://{name}/videos/")
    assert code == 0
    assert [line.split()[2:] for line in out.splitlines()] == [
        [first, f"oss://{name}/videos/a.mp4"],
        [second, f"oss://{name}/videos/b.mp4"],
    ]
    everywhere = ossemu("uploads", "ls")[1]
    assert f"{third}  oss://{name}/other.bin" in everywhere

    assert ossemu("uploads", "abort", f"oss://{name}/videos/a.mp4", "--upload-id", first) == (
        0,
        f"aborted upload {first} of oss://{name}/videos/a.mp4\n",
        "",
    )
    assert ossemu("uploads", "abort", f"oss://{name}", "--all") == (
        0,
        f"aborted upload {third} of oss://{name}/other.bin\n"
        f"aborted upload {second} of oss://{name}/videos/b.mp4\n",
        "",
    )
    assert list(oss_bucket.list_multipart_uploads()) == []
    assert ossemu("uploads", "abort", f"oss://{name}/", "--all") == (
        0,
        f"no unfinished uploads under oss://{name}/\n",
        "",
    )


def test_uploads_abort_needs_an_id_or_all_and_a_known_upload(ossemu, oss_bucket):
    code, out, err = ossemu(
        "uploads", "abort", f"oss://{oss_bucket.name}/k", "--upload-id", "0" * 32
    )
    assert (code, out) == (2, "")
    assert err.startswith("ossemu: error: NoSuchUpload: ")


def test_ctrl_c_on_a_terminal_ends_the_bar_then_prints_the_command(
    oss_emulator, oss_bucket, tmp_path
):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * MIB))
    env = cli_env(oss_emulator, XDG_CACHE_HOME=str(tmp_path / "cache"), COLUMNS="120")
    oss_emulator.add_fault(action="delay", operation="UploadPart", delay=0.3, times=1000)
    master, slave = pty.openpty()
    proc = ossemu_process(
        "put",
        str(src),
        f"oss://{oss_bucket.name}/big.bin",
        "--part-size",
        "1MiB",
        "--multipart-threshold",
        "1MiB",
        "--threads",
        "1",
        env=env,
        stderr=slave,
    )
    os.close(slave)
    drawn: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(master, drawn))
    reader.start()
    try:
        wait_for_parts(oss_bucket, "big.bin", 2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
        proc.communicate()
        reader.join(10)
        os.close(master)
        oss_emulator.clear_faults()
    shown = plain(b"".join(drawn).decode("utf-8", "replace")).replace("\r\n", "\n")
    tail = shown.rstrip("\n").split("\n")[-3:]
    assert tail[0].split("\r")[-1].startswith("stopped put big.bin ")
    assert tail[1:] == [
        "ossemu: interrupted; the parts sent so far stay on OSS. Resume with:",
        f"  ossemu put {src} oss://{oss_bucket.name}/big.bin --part-size 1MiB "
        "--multipart-threshold 1MiB --threads 1",
    ]


def read_all(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return
        if not chunk:
            return
        into.append(chunk)
