"""The README's performance section stays true: its PostObject bench command is one the bench
accepts, and the forms that command replays are ones the emulator stores (the bench is never
timed here; speed is measured in bench/)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import requests

from bench import forms
from bench.__main__ import _parse

ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "README.md").read_text().split("## Performance", 1)[1].split("\n## ", 1)[0]


def test_readme_post_bench_command_selects_the_post_workload():
    (command,) = re.findall(r"`(\.venv/bin/python -m bench --only post[^`]*)`", SECTION)
    argv = shlex.split(command)[3:]
    args = _parse(argv)
    assert args.only == ["post"] and args.runs == 3 and args.no_install


def test_bench_form_bodies_upload_each_key_with_one_signed_policy(
    oss_emulator, oss_client, oss_credentials, tmp_path
):
    bucket = oss_client.create_bucket("bench-forms")
    form = forms.sign(oss_emulator.url, *oss_credentials, "bench-forms", "post/")
    for key, data in (("post/a", b"first"), ("post/b", b"second" * 1000)):
        resp = requests.post(
            f"{oss_emulator.url}/bench-forms",
            data=form.body(key, data),
            headers={"Content-Type": form.content_type},
            timeout=30,
        )
        assert resp.status_code == 204, resp.text
        assert bucket.get_object(key) == data
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * (3 * 2**20 + 7))
    port = oss_emulator.url.rsplit(":", 1)[1]
    assert forms.post_file(int(port), "/bench-forms", form, "post/big", big) > 0
    assert bucket.get_object("post/big") == big.read_bytes()


def test_every_bench_command_in_the_section_is_one_the_bench_accepts():
    text = " ".join(SECTION.split())  # commands may wrap across lines
    commands = re.findall(r"`((?:\.venv/bin/)?python -m bench [^`]*)`", text)
    assert len(commands) >= 2
    for command in commands:
        argv = shlex.split(command)[3:]
        assert _parse(argv).only, command
