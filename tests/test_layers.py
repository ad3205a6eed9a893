"""The package's layers point one way (docs/ARCHITECTURE.md): every import of every module, read
from its source (function-level imports included), goes down the layer order or within a layer,
and no two subpackages import each other, directly or through others."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "surfturf"

# Lowest first. A part may import its own layer and those below, never one above.
LAYERS: list[set[str]] = [
    {"surfturf", "errors"},
    {"models"},
    {"io", "stats"},
    {"data", "rubrics", "attributes"},
    {"surf", "turf"},
    {"steer"},
    {"world", "report", "inspect"},
    {"cli"},
    {"testing"},
]
LAYER = {part: n for n, layer in enumerate(LAYERS) for part in layer}

@dataclass(frozen=True)
class Import:
    """One import statement: the importing module, its file and line, and the surfturf module imported."""

    module: str
    where: str
    target: str

    def __str__(self) -> str:
        return f"{self.where} -> {self.target}"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """The top-level part a module belongs to: a subpackage or a top-level module (`errors`, `stats`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(path: Path, root: Path = PACKAGE) -> list[Import]:
    """Every import of a surfturf module in the file, at any depth (function-level ones too), relative ones resolved."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            targets = [".".join(base + ([node.module] if node.module else []))]
        elif isinstance(node, ast.ImportFrom):
            targets = [node.module or ""]
        else:
            continue
        where = f"{path.relative_to(root.parent)}:{node.lineno}"
        found += [Import(module, where, target) for target in targets if target.split(".")[0] == "surfturf"]
    return found


def edges(root: Path = PACKAGE) -> dict[tuple[str, str], list[Import]]:
    """(importing part, imported part) -> the imports that make that edge, for parts that differ."""
    found: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        for one in imports(path, root):
            if part_of(one.target) != part_of(one.module):
                found[(part_of(one.module), part_of(one.target))].append(one)
    return found


def against_the_order(found: dict[tuple[str, str], list[Import]]) -> list[Import]:
    """The imports that go up the layer order."""
    return [one for (source, target), where in found.items() if LAYER.get(target, -1) > LAYER.get(source, -1)
            for one in where]


def cycles(found: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
    """Every simple cycle of the part graph, each once (listed from its smallest part)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in found:
        graph[source].add(target)
    loops = []
    for start in sorted(graph):
        stack = [[start]]
        while stack:
            path = stack.pop()
            for nxt in sorted(graph[path[-1]]):
                if nxt == start:
                    loops.append([*path, start])
                elif nxt > start and nxt not in path:
                    stack.append([*path, nxt])
    return loops


def test_every_part_has_a_layer() -> None:
    parts = {part_of(module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert parts - set(LAYER) == set(), "add these parts to LAYERS and docs/ARCHITECTURE.md"


def test_imports_follow_the_layer_order() -> None:
    wrong = against_the_order(edges())
    assert wrong == [], "imports against the layer order:\n" + "\n".join(map(str, wrong))


def test_no_cycle_between_parts() -> None:
    found = edges()
    loops = cycles(found)
    assert loops == [], "\n".join(
        "cycle " + " -> ".join(loop) + ":\n  "
        + "\n  ".join(str(one) for a, b in zip(loop, loop[1:]) for one in found[(a, b)])
        for loop in loops)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "surfturf"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(("source", "expected"), [
    ("from surfturf.turf import store\n", ["surfturf.turf"]),
    ("def f():\n    from surfturf.world.probe import x\n", ["surfturf.world.probe"]),
    ("from . import sibling\nfrom ..models import Model\n", ["surfturf.surf", "surfturf.models"]),
    ("import json, surfturf.io.files\n", ["surfturf.io.files"]),
])
def test_imports_are_read_at_any_depth_and_resolved(tmp_path: Path, source: str, expected: list[str]) -> None:
    root = _package(tmp_path, {"surf/mod.py": source})
    assert [one.target for one in imports(root / "surf" / "mod.py", root)] == expected


def test_an_upward_import_and_a_cycle_are_reported_with_their_lines(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "models/a.py": "def f():\n    from surfturf.surf.loop import x\n",
        "surf/loop.py": "from surfturf.models.a import f\n",
        "surf/ok.py": "from surfturf.turf import y\n",
        "turf/b.py": "import surfturf.surf.ok\n",
    })
    found = edges(root)
    assert [str(one) for one in against_the_order(found)] == ["surfturf/models/a.py:2 -> surfturf.surf.loop"]
    assert cycles(found) == [["models", "surf", "models"], ["surf", "turf", "surf"]]
