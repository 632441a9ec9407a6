"""The `ossemu` client commands as a person types them, against the session emulator."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid

import pytest
import requests

from ossemu.client import Callback, CallbackError
from ossemu.emulator.cli import main
from tests.e2e.cli_support import plain

COMMANDS = ["mb", "rb", "ls", "put", "get", "rm", "presign", "uploads", "callbacks"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mb_ls_rb_manage_a_bucket(ossemu):
    name = f"cli-{uuid.uuid4().hex[:12]}"
    assert ossemu("mb", f"oss://{name}") == (0, f"created oss://{name}\n", "")
    code, out, _ = ossemu("ls")
    assert code == 0 and f"  oss://{name}\n" in out
    assert ossemu("rb", f"oss://{name}") == (0, f"deleted oss://{name}\n", "")
    assert f"oss://{name}\n" not in ossemu("ls")[1]


def test_put_ls_get_rm_round_trip(ossemu, oss_bucket, tmp_path, monkeypatch):
    src = tmp_path / "report.txt"
    src.write_text("quarterly numbers")
    name = oss_bucket.name
    code, out, err = ossemu(
        "put", str(src), f"oss://{name}/docs/", "--content-type", "text/x-report", "--meta", "a=1"
    )
    assert (code, err) == (0, "")
    etag = oss_bucket.head_object("docs/report.txt").etag
    assert out == f"oss://{name}/docs/report.txt\netag: {etag}\n"
    meta = oss_bucket.head_object("docs/report.txt")
    assert meta.content_type == "text/x-report" and meta.metadata == {"a": "1"}
    assert ossemu("put", str(src), f"oss://{name}/top.txt")[0] == 0

    listing = ossemu("ls", f"oss://{name}")[1].splitlines()
    assert [line.split()[-2:] for line in listing] == [
        ["DIR", f"oss://{name}/docs/"],
        ["17", f"oss://{name}/top.txt"],
    ]
    recursive = ossemu("ls", "-r", "-H", f"oss://{name}/")[1]
    assert f"17 B  oss://{name}/docs/report.txt\n" in recursive
    assert f"oss://{name}/top.txt" in recursive and "DIR" not in recursive

    assert ossemu("get", f"oss://{name}/docs/report.txt", "-") == (0, "quarterly numbers", "")
    code, out, _ = ossemu("get", f"oss://{name}/docs/report.txt", str(tmp_path / "copy.txt"))
    assert code == 0 and (tmp_path / "copy.txt").read_text() == "quarterly numbers"
    assert out == f"oss://{name}/docs/report.txt -> {tmp_path / 'copy.txt'} (17 bytes)\n"
    monkeypatch.chdir(tmp_path)
    assert ossemu("get", f"oss://{name}/top.txt")[0] == 0
    assert (tmp_path / "top.txt").read_text() == "quarterly numbers"

    code, out, _ = ossemu("rm", f"oss://{name}/docs/report.txt", f"oss://{name}/top.txt")
    assert code == 0 and out.splitlines() == [
        f"deleted oss://{name}/docs/report.txt",
        f"deleted oss://{name}/top.txt",
    ]
    assert ossemu("ls", "-r", f"oss://{name}") == (0, "", "")


def test_put_with_callback_prints_the_etag_and_the_apps_answer(
    ossemu, oss_bucket, callback_receiver, tmp_path
):
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"not really a jpeg")
    code, out, err = ossemu(
        "put",
        str(src),
        f"oss://{oss_bucket.name}/photos/1.jpg",
        "--callback-url",
        callback_receiver.url,
        "--callback-var",
        "user=ann",
    )
    assert (code, err) == (0, "")
    received = callback_receiver.wait_for(1)[0]
    etag = oss_bucket.head_object("photos/1.jpg").etag
    assert received.verified
    assert received.form == {
        "bucket": oss_bucket.name,
        "object": "photos/1.jpg",
        "etag": etag,
        "size": "17",
        "mimeType": "image/jpeg",
        "x:user": "ann",
    }
    assert out.splitlines() == [
        f"oss://{oss_bucket.name}/photos/1.jpg",
        f"etag: {etag}",
        'callback answer: {"Status":"OK"}',
    ]


def test_put_with_a_json_callback_and_custom_body(ossemu, oss_bucket, callback_receiver, tmp_path):
    src = tmp_path / "a.bin"
    src.write_bytes(b"12345")
    code, _, _ = ossemu(
        "put",
        str(src),
        f"oss://{oss_bucket.name}/a.bin",
        "--callback-url",
        callback_receiver.url,
        "--callback-type",
        "json",
        "--callback-body",
        '{"key":${object},"size":${size},"who":${x:who}}',
        "--callback-var",
        "x:who=bob",
        "--callback-host",
        "app.example.com",
    )
    assert code == 0
    received = callback_receiver.wait_for(1)[0]
    assert received.json == {"key": "a.bin", "size": 5, "who": "bob"}
    assert received.headers["host"] == "app.example.com"


def test_a_failed_callback_exits_3_and_the_object_is_stored(
    ossemu, oss_bucket, callback_receiver, tmp_path
):
    callback_receiver.respond_with(500, b'{"Status":"Error"}')
    src = tmp_path / "k"
    src.write_bytes(b"kept")
    code, out, err = ossemu(
        "put", str(src), f"oss://{oss_bucket.name}/k", "--callback-url", callback_receiver.url
    )
    assert (code, out) == (3, "")
    assert err.count("\n") == 1
    assert err.startswith("ossemu: callback failed: Error status : 500. ")
    assert f"oss://{oss_bucket.name}/k IS stored" in err
    assert oss_bucket.get_object("k") == b"kept"


def test_a_large_file_goes_up_in_parts_with_a_progress_bar(
    ossemu, oss_emulator, oss_bucket, callback_receiver, tmp_path, checkpoints
):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(250 * 1024))
    code, out, err = ossemu(
        "put",
        str(src),
        f"oss://{oss_bucket.name}/big.bin",
        "--multipart-threshold",
        "200KiB",
        "--part-size",
        "100KiB",
        "--threads",
        "2",
        "--progress",
        "--callback-url",
        callback_receiver.url,
    )
    assert code == 0, err
    final = plain(err).rstrip("\n").split("\r")[-1]
    assert final.startswith("done put big.bin ") and " 250.0/250.0 KiB " in final
    assert out.splitlines()[1].endswith("-3")  # etag: <hex>-<number of parts>
    assert oss_bucket.get_object("big.bin") == src.read_bytes()
    (delivery,) = oss_emulator.callbacks(bucket=oss_bucket.name)
    assert delivery["operation"] == "CompleteMultipartUpload"


def test_no_progress_bar_when_stderr_is_not_a_terminal(ossemu, oss_bucket, tmp_path):
    src = tmp_path / "small"
    src.write_bytes(b"x" * 1000)
    code, _, err = ossemu("put", str(src), f"oss://{oss_bucket.name}/small")
    assert (code, err) == (0, "")


def test_presigned_urls_work_without_credentials(ossemu, oss_bucket):
    name = oss_bucket.name
    code, put_url, _ = ossemu("presign", f"oss://{name}/shared.txt", "--method", "PUT")
    assert code == 0
    assert requests.put(put_url.strip(), data=b"via a signed URL", timeout=10).status_code == 200
    code, get_url, _ = ossemu("presign", f"oss://{name}/shared.txt", "--expires", "60")
    assert "x-oss-expires=60" in get_url
    assert requests.get(get_url.strip(), timeout=10).content == b"via a signed URL"


def test_callbacks_shows_each_delivery_readably(ossemu, oss_bucket, callback_receiver):
    callback = Callback(url=callback_receiver.url, query={"user": "put_object"})
    oss_bucket.put_object("files/hello", b"hi", callback=callback)
    code, out, _ = ossemu("callbacks", "--bucket", oss_bucket.name)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith(f"PutObject  oss://{oss_bucket.name}/files/hello  -> ok")
    assert lines[1].startswith("  request ") and lines[1].endswith(" ms")
    assert lines[2] == (
        f"  sent (application/x-www-form-urlencoded): bucket={oss_bucket.name}&object=files%2Fhello"
    )
    assert lines[3].startswith(f"  try 1: POST {callback_receiver.url}?user=put_object -> 200, ok")
    assert lines[4] == '         answer: {"Status":"OK"}'

    code, out, _ = ossemu(
        "callbacks", "--bucket", oss_bucket.name, "--key", "files/hello", "--json"
    )
    (entry,) = json.loads(out)
    assert (entry["key"], entry["outcome"]) == ("files/hello", "ok")


def test_callbacks_follow_prints_new_deliveries_until_ctrl_c(oss_emulator, oss_bucket, tmp_path):
    callback_url = f"http://127.0.0.1:{closed_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ossemu.emulator", "callbacks", "--follow", "--interval", "0.05"]
        + ["--bucket", oss_bucket.name, "--endpoint", oss_emulator.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        assert proc.stderr.readline().startswith("following ")
        with pytest.raises(CallbackError):
            oss_bucket.put_object("late", b"x", callback=Callback(url=callback_url))
        first = proc.stdout.readline()
        assert f"PutObject  oss://{oss_bucket.name}/late  -> FAILED: Error status : -1." in first
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        watchdog.cancel()
        proc.kill()
        proc.communicate()


def test_a_real_process_reads_its_configuration_from_the_environment(oss_emulator, oss_bucket):
    env = {
        **os.environ,
        "OSS_ENDPOINT": oss_emulator.url,
        "OSS_ACCESS_KEY_ID": oss_emulator.access_key_id,
        "OSS_ACCESS_KEY_SECRET": oss_emulator.access_key_secret,
    }
    target = f"oss://{oss_bucket.name}/from-stdin.txt"
    put = subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", "put", "-", target],
        input="piped in",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert put.returncode == 0, put.stderr
    ls = subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", "ls", f"oss://{oss_bucket.name}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert (ls.returncode, ls.stderr) == (0, "")
    assert ls.stdout.rstrip().endswith(f"8  {target}")


def test_an_unreachable_endpoint_is_one_clear_line(capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    assert main(["ls", "--endpoint", url]) == 2
    assert capsys.readouterr() == (
        "",
        f"ossemu: error: cannot reach {url}: connection refused; is `ossemu serve` running?\n",
    )


def test_missing_buckets_and_keys_print_the_oss_code_and_message(ossemu, oss_bucket):
    assert ossemu("ls", f"oss://missing-{uuid.uuid4().hex[:8]}") == (
        2,
        "",
        "ossemu: error: NoSuchBucket: The specified bucket does not exist.\n",
    )
    code, _, err = ossemu("get", f"oss://{oss_bucket.name}/nothing-here", "-")
    assert code == 2 and err.startswith("ossemu: error: NoSuchKey: ")


def test_a_wrong_secret_is_signature_does_not_match_and_never_printed(oss_emulator, capsys):
    secret = "definitely-the-wrong-secret"
    argv = ["ls", "--endpoint", oss_emulator.url, "--access-key-id", oss_emulator.access_key_id]
    assert main([*argv, "--access-key-secret", secret]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("ossemu: error: SignatureDoesNotMatch: ") and err.count("\n") == 1
    assert secret not in out + err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ls", "s3://bucket"], "'s3://bucket' is not an OSS path"),
        (["mb", "oss://No_Such"], "Invalid bucket name 'No_Such'"),
        (["put", "/no/such/file", "oss://bucket1/k"], "no such file: /no/such/file"),
        (["get", "oss://bucket1/dir/"], "names no object"),
        (["put", __file__, "oss://bucket1/k", "--meta", "novalue"], "--meta takes NAME=VALUE"),
        (["put", __file__, "oss://bucket1/k", "--callback-body", "x"], "need --callback-url"),
        (
            ["put", __file__, "oss://bucket1/k"] + ["--callback-url", "http://127.0.0.1:1"] * 6,
            "At most 5 callback URLs",
        ),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(ossemu, argv, message):
    code, out, err = ossemu(*argv)
    assert (code, out) == (2, "")
    assert err.startswith("ossemu: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("command", [*COMMANDS[:-2], "uploads ls", "uploads abort", "callbacks"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert out.startswith(f"usage: ossemu {command}") and "--endpoint" in out
    assert "3    the upload's callback failed, but the object IS stored" in out


def test_the_top_level_help_lists_the_client_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ")]
    assert set(COMMANDS) <= set(listed)
