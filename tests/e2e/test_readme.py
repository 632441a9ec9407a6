"""The README stays true: each of its snippets and commands runs here against a live emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.parametrize("marker", ["oss2.AuthV4(", "import alibabacloud_oss_v2"])
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
