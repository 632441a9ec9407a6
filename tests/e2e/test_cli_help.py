"""`ossemu --version`, and help that explains every flag of every command with its default."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

import ossemu
from ossemu.emulator.cli import _parser
from ossemu.emulator.cli.receiver import build_parser as receiver_parser


def every_parser() -> list[tuple[str, argparse.ArgumentParser]]:
    """Each command's parser, nested ones (`uploads ls`) included; `receiver` is its own."""
    found = [("ossemu receiver", receiver_parser())]
    pending = [_parser()]
    while pending:
        parser = pending.pop()
        found.append((parser.prog, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending += [p for name, p in action.choices.items() if name != "receiver"]
    return found


PARSERS = every_parser()


def test_version_is_the_packages(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "ossemu")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout) == (0, f"ossemu {ossemu.__version__}\n")


def test_the_walk_reaches_every_command():
    progs = {prog for prog, _ in PARSERS}
    expected = {"serve", "dev", "receiver", "mb", "rb", "ls", "put", "get", "rm", "presign"}
    expected |= {"uploads", "uploads ls", "uploads abort", "callbacks"}
    assert {f"ossemu {name}" for name in expected} <= progs


@pytest.mark.parametrize(("prog", "parser"), PARSERS, ids=[prog for prog, _ in PARSERS])
def test_every_option_has_help_and_shows_its_default(prog, parser):
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings or isinstance(
            action, argparse._HelpAction | argparse._VersionAction
        ):
            continue
        if action.help == argparse.SUPPRESS:  # hidden on purpose (test knobs)
            continue
        assert action.help, f"{prog} {action.option_strings[0]} has no help"
        shown = formatter._expand_help(action)
        assert "default" in shown.lower(), f"{prog} {action.option_strings[0]}: {shown!r}"
        assert "default: None" not in shown, f"{prog} {action.option_strings[0]}: {shown!r}"


def test_receiver_help_shows_host_and_port_defaults():
    script = os.path.join(os.path.dirname(sys.executable), "ossemu")
    result = subprocess.run(
        [script, "receiver", "--help"], capture_output=True, text=True, timeout=30
    )
    text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert "--host HOST address to listen on (default: 127.0.0.1)" in text
    assert "--port PORT port to listen on; 0 picks a free one (default: 23450)" in text
