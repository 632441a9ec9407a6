"""The shape of the code: no import circles in emulator/ or client/, and no module too long."""

from __future__ import annotations

from tests.architecture import MAX_LINES, circles, import_graph, module_sizes


def test_emulator_and_client_have_no_import_circles() -> None:
    assert circles(import_graph()) == []


def test_no_module_is_over_the_line_limit() -> None:
    assert [(lines, name) for lines, name in module_sizes() if lines > MAX_LINES] == []


def test_a_type_checking_only_import_still_counts_as_an_edge(tmp_path) -> None:
    package = tmp_path / "emulator"
    package.mkdir()
    (tmp_path / "client").mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n"
    )
    (package / "b.py").write_text("def f():\n    from ossemu.emulator.a import A\n")
    assert circles(import_graph(tmp_path)) == [["emulator.a", "emulator.b"]]
