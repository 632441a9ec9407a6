"""The help formatter every ``ossemu`` subcommand uses: each option's default, shown."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps epilogs as written and appends ``(default: ...)`` to an option's help, unless the
    help already says what the default is (a default that depends on the environment)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            not action.option_strings
            or "default" in text.lower()
            or action.default is argparse.SUPPRESS
            or action.help is argparse.SUPPRESS
            or action.nargs == 0
            and action.default is None  # --help, --version
        ):
            return text
        return f"{text} (default: {_shown(action.default)})"


def _shown(value: object) -> str:
    if value is False:
        return "off"
    if value in (None, [], ""):
        return "none"
    return str(value).replace("%", "%%")
