"""The import graph of ``emulator/`` and ``client/``, read with ``ast``: circles and sizes.

Every import counts, including the ones under ``if TYPE_CHECKING:`` and inside functions, because
a circle that only type checking or a lazy import hides is still a circle in the design.
Run ``python -m tests.architecture`` from the repository root to print the circles and the ten
largest modules; ``tests/test_architecture.py`` asserts there are none and that all are small.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("emulator", "client")
MAX_LINES = 420


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name (``emulator.routes.objects``) -> file, for both packages."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` (maybe ``pkg.mod.attr``) points into."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``module`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            prefix = prefix.removeprefix("ossemu.")
            # ``from pkg import mod`` imports the module; ``from pkg import name`` the package.
            targets = [
                f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                for alias in node.names
            ]
        for target in targets:
            target = target.removeprefix("ossemu.")
            resolved = _resolve(target, modules)
            if resolved and resolved != module:
                found.add(resolved)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    edges = graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return sorted(groups)


def module_sizes(root: Path = ROOT) -> list[tuple[int, str]]:
    """(lines, file) for every module, largest first."""
    sizes = [
        (len(path.read_text().splitlines()), str(path.relative_to(root)))
        for path in module_files(root).values()
    ]
    return sorted(sizes, reverse=True)


def main() -> int:
    found = circles(import_graph())
    print(f"import circles: {len(found)}")
    for group in found:
        print("  " + " <-> ".join(group))
    print("largest modules:")
    for lines, name in module_sizes()[:10]:
        flag = "  (over limit)" if lines > MAX_LINES else ""
        print(f"  {lines:5d} {name}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
