"""The README stays true: each of its snippets and commands runs here against a live emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import INNER_PYTEST

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.S | re.M)


def blocks(lang: str, containing: str = "") -> list[str]:
    found = [text for kind, text in BLOCKS if kind == lang and containing in text]
    assert found, f"README has no {lang} block containing {containing!r}"
    return found


def block(lang: str, containing: str) -> str:
    (found,) = blocks(lang, containing)
    return found


@pytest.fixture
def live(oss_emulator, callback_receiver, oss_client):
    """The README's fixed addresses, pointed at this test's emulator and receiver."""
    oss_client.create_bucket("examplebucket")

    def localise(text: str) -> str:
        return (
            text.replace("http://127.0.0.1:8090", oss_emulator.url)
            .replace("http://localhost:8090", oss_emulator.url.replace("127.0.0.1", "localhost"))
            .replace("http://127.0.0.1:23450", callback_receiver.url)
        )

    yield localise
    oss_emulator.services.storage.drop_bucket("examplebucket")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return result


def run_shell(script: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_first_screen_shows_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make run" in first_screen and "make test" in first_screen


def test_seed_runs_as_written_both_when_the_app_answers_and_when_it_fails(live, callback_receiver):
    setup = block("sh", "echo hello > /tmp/x")
    env = dict(re.findall(r"(\w+)=(\S+)", setup.split("\n")[0]))
    run_shell(setup)
    seed = live(block("python", "from ossemu import Client, Callback, CallbackError"))

    ok = run_python(seed, **env)
    assert "Callback failed" not in ok.stdout
    (got,) = callback_receiver.wait_for(1)
    assert (got.method, got.target, got.verified) == ("POST", "/?user=put_object", True)
    assert got.body == b"bucket=examplebucket&object=files%2Fhello"

    callback_receiver.respond_with(500)
    failed = run_python(seed, **env)
    quoted = block("text", "Callback failed: ").strip()
    pattern = re.escape(quoted).replace(re.escape("<id>"), r"[0-9A-F]+")
    assert re.fullmatch(pattern, failed.stdout.strip()), (failed.stdout, quoted)


def test_cors_and_acl_snippets_and_what_they_print(live):
    out = run_python(live(block("python", "bucket.put_bucket_cors("))).stdout
    assert out == "public-read private\n"
    said = re.search(r"It prints `([^`]+)`", README).group(1)
    assert out.strip() == said
    printed = run_shell(live(block("sh", "Access-Control-Request-Method"))).stdout.splitlines()
    assert printed == ["hello, anyone", "200"]
    assert "They print `hello, anyone` and `200`." in README


def test_post_object_snippet_signs_a_form_and_uploads_with_it(
    live, oss_emulator, callback_receiver, oss_client
):
    snippet = live(block("python", "bucket.post_object_form("))
    env = {
        "OSS_ACCESS_KEY_ID": oss_emulator.access_key_id,
        "OSS_ACCESS_KEY_SECRET": oss_emulator.access_key_secret,
    }

    out = run_python(snippet, **env).stdout.splitlines()

    assert out[0].endswith("/examplebucket/")
    assert out[2] == "{'Status': 'OK'}"
    (got,) = callback_receiver.wait_for(1)
    assert got.body == b"object=uploads%2Fhello.txt&uid=42"
    assert oss_client.get_bucket("examplebucket").get_object("uploads/hello.txt") == b"hello"


def test_fixture_snippet_passes_in_a_users_project(pytester):
    pytester.makepyfile(block("python", "def test_upload_notifies_app"))
    pytester.runpytest_subprocess(*INNER_PYTEST).assert_outcomes(passed=1)


def test_clock_snippet_passes_in_a_users_project(pytester):
    pytester.makepyfile(block("python", "def test_download_link_expires"))
    pytester.runpytest_subprocess(*INNER_PYTEST).assert_outcomes(passed=1)


def test_sts_snippet_passes_in_a_users_project(pytester):
    pytester.makepyfile(block("python", "def test_user_uploads_only_under_their_prefix"))
    pytester.runpytest_subprocess(*INNER_PYTEST).assert_outcomes(passed=1)


def test_sts_app_server_snippet_with_the_official_sdks(live, oss_emulator, oss_client):
    code = live(block("python", "from alibabacloud_sts20150401"))
    run_python(code.replace('"127.0.0.1:8090"', f'"127.0.0.1:{oss_emulator.port}"'))
    assert oss_client.get_bucket("examplebucket").get_object("user-42/avatar.png") == b"png"


def test_sts_shell_exports(live):
    script = block("sh", "ossemu sts")
    echoed = run_shell(
        live(script).replace(".venv/bin/ossemu", f"{sys.executable} -m ossemu.emulator")
    )
    assert echoed.stdout.startswith("STS.")


def test_archive_snippet_passes_in_a_users_project(pytester):
    pytester.makepyfile(block("python", "def test_archived_report_reads_after_restore"))
    pytester.runpytest_subprocess(*INNER_PYTEST).assert_outcomes(passed=1)


@pytest.mark.parametrize("marker", ['oss2.AuthV4("ossemu-dev-key"', "import alibabacloud_oss_v2"])
def test_official_python_sdk_snippets(live, marker, oss_client):
    run_python(live(block("python", marker)))
    assert oss_client.get_bucket("examplebucket").list_objects()


def test_ali_oss_snippet(live, callback_receiver, oss_client, ali_oss):
    node, node_env = ali_oss
    script = (
        live(block("js", "require('ali-oss')"))
        + """
(async () => {
  await client.put('node.txt', Buffer.from('hello from ali-oss'));
  const cb = await client.put('node-cb.txt', Buffer.from('x'),
    { callback: { url: process.env.CALLBACK_URL, body: 'object=${object}' } });
  console.log(JSON.stringify(cb.data));
})().catch((e) => { console.error(e); process.exit(1); });
"""
    )
    env = {**node_env, "CALLBACK_URL": callback_receiver.url}
    result = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"Status": "OK"}
    assert oss_client.get_bucket("examplebucket").get_object("node.txt") == b"hello from ali-oss"


def test_journal_and_fault_commands(live, oss_emulator):
    for script in blocks("sh", "curl"):
        run_shell(live(script))
    assert oss_emulator.services.faults.list() == []  # the fault block ends by clearing them


def test_every_configuration_flag_exists():
    help_text = subprocess.run(
        [sys.executable, "-m", "ossemu.emulator", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    flags = set(re.findall(r"`(--[a-z-]+)`", README.split("## Configuration")[1].split("##")[0]))
    assert flags and all(flag in help_text for flag in flags), flags - set(help_text.split())


def test_cli_block_runs_as_written(live, oss_emulator, callback_receiver, tmp_path):
    """The `ossemu` block, line by line in bash, as the user's own files and shell would run it."""
    script = live(block("sh", "ossemu mb oss://mybucket")).replace(
        "/tmp/index.html", str(tmp_path / "index.html")
    )
    (tmp_path / "site" / "css").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text("<h1>hello</h1>")
    (tmp_path / "site" / "css" / "a.css").write_text("h1{}")
    (tmp_path / "big.iso").write_bytes(os.urandom(17 * 1024 * 1024))  # above the 16 MiB line
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("OSS_")
    }  # the block relies on the development key for a local endpoint
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("created oss://mybucket\n")
    assert "oss://mybucket/site/css/a.css  etag " in out and "uploaded 2 files" in out
    assert 'callback answer: {"Status":"OK"}' in out
    assert "  oss://mybucket\n" in out and "  oss://mybucket/big.iso\n" in out
    assert (tmp_path / "index.html").read_text() == "<h1>hello</h1>"
    assert "no unfinished uploads under oss://mybucket/" in out
    assert out.endswith("deleted 3 objects under oss://mybucket/\ndeleted oss://mybucket\n")
    (got,) = callback_receiver.wait_for(1)
    assert got.form["object"] == "big.iso" and got.verified
    assert oss_emulator.callbacks(bucket="mybucket")[0]["operation"] == "CompleteMultipartUpload"


def test_fsck_commands(tmp_path):
    from ossemu.emulator.storage import Storage

    data_dir = tmp_path / "data"
    storage = Storage(data_dir)
    storage.create_bucket("examplebucket")
    storage.put_object("examplebucket", "big", iter([os.urandom(100 * 1024)]))
    storage.put_object("examplebucket", "small", iter([b"hello"]))
    storage.close()
    lines = [
        line.split("#")[0].strip()
        for line in block("sh", "ossemu fsck").splitlines()
        if line.strip()
    ]
    cli = f"{sys.executable} -m ossemu.emulator"

    def run(line: str) -> subprocess.CompletedProcess[str]:
        command = line.replace("ossemu ", f"{cli} ", 1).replace(".ossemu-data", str(data_dir))
        return subprocess.run(command.split(), capture_output=True, text=True, timeout=60)

    healthy = [run(line) for line in lines]
    assert [r.returncode for r in healthy] == [0, 0, 0, 0], [r.stderr for r in healthy]
    assert "checked 2 objects (1 inline), 0 parts, 1 blob files" in healthy[0].stdout
    assert healthy[0].stdout.rstrip().endswith("no problem(s)")
    assert json.loads(healthy[1].stdout)["ok"] is True
    assert "nothing to rebuild" in healthy[3].stdout

    orphan = data_dir / "blobs" / "ab" / ("ab" * 16)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"stray")
    assert run(lines[0]).returncode == 1
    repaired = run(lines[2])
    assert repaired.returncode == 1 and "moved to lost+found/" in repaired.stdout
    assert (data_dir / "lost+found" / orphan.name).read_bytes() == b"stray"
    assert run(lines[0]).returncode == 0


def test_inspector_callback_commands_run_as_written(
    live, oss_emulator, callback_receiver, oss_client
):
    """The trigger block: a callback for a stored object, the journal, then a replay of it (the
    entry number the journal printed stands in for the README's example "7")."""
    oss_client.get_bucket("examplebucket").put_object("hello.txt", b"hello")
    trigger, listing, replay = live(block("sh", "ossemu callbacks trigger")).strip().splitlines()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OSS_")}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"
    env["OSS_ENDPOINT"] = oss_emulator.url

    def run(line: str) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", line],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert run(trigger).rstrip().endswith(": ok (200)")
    shown = run(listing)
    assert shown.startswith("#") and "  Trigger  oss://examplebucket/hello.txt  -> ok" in shown
    # The trigger's own line: the journal may hold other README blocks' deliveries for this
    # bucket (run earlier on the same emulator, some under a moved clock), listed before it.
    number = next(
        line.split()[0].lstrip("#")
        for line in shown.splitlines()
        if "  Trigger  oss://examplebucket/hello.txt" in line
    )
    assert " replay 7 " in replay
    assert run(replay.replace(" replay 7 ", f" replay {number} ")).rstrip().endswith(": ok (200)")
    first, second = callback_receiver.wait_for(2)
    assert first.form["object"] == "hello.txt" and first.form["size"] == "5"
    assert second.body == first.body and second.path == "/again" and second.verified
