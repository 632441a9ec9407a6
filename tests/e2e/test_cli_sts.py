"""``ossemu sts``: temporary credentials for a shell, from the emulator's own STS."""

from __future__ import annotations

import json
import shlex

import pytest

from ossemu import AccessDenied, Client
from ossemu.emulator.cli import main


def test_sts_env_format_exports_what_the_sdks_read(oss_emulator, oss_bucket, capsys, monkeypatch):
    args = ["sts", "--endpoint", oss_emulator.url, "--bucket", oss_bucket.name]
    assert main([*args, "--prefix", "user-42/", "--format", "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    exports = dict(
        shlex.split(line)[1].split("=", 1) for line in lines if line.startswith("export")
    )
    assert set(exports) == {"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN"}
    assert lines[-1].startswith("# expires ")
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    bucket = Client(oss_emulator.url).get_bucket(oss_bucket.name)  # keys and token from env
    bucket.put_object("user-42/from-shell.txt", b"hi")
    with pytest.raises(AccessDenied):
        bucket.put_object("user-7/from-shell.txt", b"hi")


def test_sts_json_format_has_sts_field_names(oss_emulator, capsys):
    assert main(["sts", "--endpoint", oss_emulator.url, "--duration", "900"]) == 0
    fields = json.loads(capsys.readouterr().out)
    assert set(fields) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}
    assert fields["AccessKeyId"].startswith("STS.") and fields["Expiration"].endswith("Z")


def test_sts_refusal_is_one_error_line(oss_emulator, capsys):
    assert main(["sts", "--endpoint", oss_emulator.url, "--duration", "60"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ossemu: error: STS refused: InvalidParameter.DurationSeconds")


def test_sts_takes_its_keys_as_every_other_command_does(oss_emulator, capsys, monkeypatch):
    """One rule for the CLI (``connection.credentials``): an id without its secret is an
    error, not a silent fall-back to the development key; none at all is fine locally."""
    monkeypatch.delenv("OSS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("OSS_ACCESS_KEY_SECRET", raising=False)
    args = ["sts", "--endpoint", oss_emulator.url]
    assert main([*args, "--access-key-id", "only-the-id"]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(args) == 0  # the development key, for a local endpoint
    assert json.loads(capsys.readouterr().out)["AccessKeyId"].startswith("STS.")
    assert main(["sts", "--endpoint", "https://sts.aliyuncs.com"]) == 2
    assert "no credentials for https://sts.aliyuncs.com" in capsys.readouterr().err
