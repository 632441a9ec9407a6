"""Installing ossemu takes one name, ``ossemu``: a project's own client.py and emulator.py keep
working beside it, and none of our modules is importable under a second name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from filelock import FileLock

from tests.support import INNER_PYTEST

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _readme_fixture_example() -> str:
    (example,) = [
        text
        for text in re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
        if "callback_receiver" in text and "def test_" in text
    ]
    return example


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """ossemu installed (not editable) into a folder of its own, as pip installs it for a user."""
    site = tmp_path_factory.mktemp("site")
    # One build at a time: pytest-xdist workers would otherwise share the checkout's build/ dir.
    (ROOT / ".cache").mkdir(exist_ok=True)
    with FileLock(str(ROOT / ".cache" / "install-build.lock")):
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
            + ["--no-index", "--target", str(site), str(ROOT)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return site


def _run(installed: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    # The installed copy comes first on the path; the test tools (pytest, requests, ...) come from
    # this venv. A project's own folder is on the path too, as `python -m pytest` puts it there.
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_readme_fixture_example_runs_in_a_project_with_its_own_client_and_emulator(
    installed, tmp_path
):
    project = tmp_path / "project"
    project.mkdir()
    (project / "client.py").write_text("def make_client():\n    return 'the project own client'\n")
    (project / "emulator.py").write_text("NAME = 'the project own emulator'\n")
    (project / "test_app.py").write_text(
        "import client\nimport emulator\n\n"
        + _readme_fixture_example()
        + "\n\ndef test_own_modules_are_untouched():\n"
        "    assert client.make_client() == 'the project own client'\n"
        "    assert emulator.NAME == 'the project own emulator'\n"
    )
    result = _run(installed, project, "-m", "pytest", "-q", *INNER_PYTEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_plugin_and_sdk_come_from_the_installed_package(installed, tmp_path):
    probe = (
        "import sys, ossemu, ossemu.emulator.pytest_plugin as p\n"
        "from ossemu import Client, Callback, CallbackError\n"
        "print(ossemu.__file__); print(p.__file__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('client', 'emulator')))\n"
    )
    result = _run(installed, tmp_path, "-c", probe)
    assert result.returncode == 0, result.stderr
    top, plugin, strays = result.stdout.splitlines()
    assert top.startswith(str(installed)) and plugin.startswith(str(installed))
    assert strays == "[]", "a module of ours was imported under a top-level name"


@pytest.mark.parametrize("name", ["emulator", "client"])
def test_a_source_folder_refuses_to_be_imported_under_a_second_name(name):
    """From a checkout, `import emulator` would find the folder: it says what to import instead."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"ImportError: import ossemu.{name}, not {name}" in result.stderr


def test_every_package_folder_is_installed():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        "ossemu." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("emulator", "client")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert listed == {"ossemu", *folders}
