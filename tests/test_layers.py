"""The package layers of docs/architecture.md: imports run downward only, and there is no circle.

Every `import embedlab...` in src/ counts, also those inside functions (lazy imports are still imports).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import embedlab

ROOT = Path(embedlab.__file__).parent
# what each bottom package may import (besides itself); everything else in embedlab is above it
BOTTOM = {
    "errors": set(),
    "_version": set(),
    "io": {"errors"},
    "encoders": {"errors", "io"},
    "search": {"errors", "io"},
    "store": {"errors", "io", "encoders", "search", "_version"},
}
LABS = {"words", "images", "maps", "evaluate", "finetune", "scale"}
TOP = {"cli", "serve", "explore", "__main__"}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(root)"


def import_graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> where (file:line)."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        source = package_of(".".join(relative.parts).removesuffix(".__init__"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("embedlab"):
                targets = [node.module] if node.module != "embedlab" else [f"embedlab.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("embedlab.")]
            else:
                continue
            for target in targets:
                package = package_of(target)
                if not (ROOT / package).exists() and not (ROOT / f"{package}.py").exists():
                    package = "(root)"
                if package != source:
                    graph[source][package].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def test_bottom_packages_import_nothing_above_them() -> None:
    graph = import_graph()
    wrong = {
        (source, target, where[0])
        for source, allowed in BOTTOM.items()
        for target, where in graph.get(source, {}).items()
        if target not in allowed
    }
    assert not wrong, f"imports that run upwards: {sorted(wrong)}"


def test_labs_do_not_import_the_command_line_or_the_server() -> None:
    graph = import_graph()
    wrong = {(s, t, w[0]) for s in LABS for t, w in graph.get(s, {}).items() if t in TOP}
    assert not wrong, sorted(wrong)


def test_no_circle_between_packages() -> None:
    graph = {s: set(t) - {"(root)"} for s, t in import_graph().items() if s != "(root)"}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, f"import circle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_the_test_itself_sees_the_known_edges() -> None:
    graph = import_graph()
    assert "encoders" in graph["store"] and "io" in graph["encoders"] and "store" in graph["cli"]
