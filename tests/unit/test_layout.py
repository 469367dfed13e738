"""The package's layout holds: each rule here fails on the import that would break it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import langgraph_mediator

PACKAGE = Path(langgraph_mediator.__file__).resolve().parent
NODE_MODULES = {
    "langgraph_mediator.nodes.mediator." + n
    for n in ("detect_intent", "clarify", "classify_feedback", "wait_for_more", "execute")
} | {
    "langgraph_mediator.nodes.refiner." + n
    for n in ("diagnose", "propose_guidelines", "merge_guidelines", "write_guidelines")
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute names (``from x import y`` gives x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def modules_under(*folders: str) -> dict[str, set[str]]:
    roots = [PACKAGE.joinpath(*f.split("/")) for f in folders] if folders else [PACKAGE]
    return {
        module_name(path): imports_of(path) for root in roots for path in sorted(root.rglob("*.py"))
    }


def test_the_five_mediator_nodes_and_four_refiner_nodes_have_a_module_each() -> None:
    assert set(modules_under("nodes")) >= NODE_MODULES


def test_no_node_imports_another_node() -> None:
    offenders = {
        module: sorted((imported & NODE_MODULES) - {module})
        for module, imported in modules_under("nodes").items()
        if module in NODE_MODULES and (imported & NODE_MODULES) - {module}
    }
    assert offenders == {}


def test_the_core_holds_no_langgraph_node_and_no_shell() -> None:
    shells = ("langgraph_mediator.nodes", "langgraph_mediator.graphs", "langgraph_mediator.cli",
              "langgraph_mediator.evals", "langgraph_mediator.session", "langgraph.runtime",
              "langgraph.types")  # fmt: skip
    offenders = {
        module: sorted(i for i in imported if i.startswith(shells))
        for module, imported in modules_under("core").items()
        if any(i.startswith(shells) for i in imported)
    }
    assert offenders == {}


FLOOR = tuple(f"langgraph_mediator.{m}" for m in ("errors", "text", "jsonl", "identity", "facts"))
"""The ground floor: modules every floor may use, which use nothing of the package above them."""
NO_ARROWS_UP = {
    "floor": (FLOOR, FLOOR),
    "state": (("langgraph_mediator.state",), (*FLOOR, "langgraph_mediator.state")),
    "guidelines": (
        ("langgraph_mediator.guidelines",),
        (*FLOOR, "langgraph_mediator.state", "langgraph_mediator.guidelines"),
    ),
}
"""Which part may import which: ``state`` holds data only, and ``guidelines`` stands below the
core that reads it (an arrow from either up to ``auth`` or ``core`` would run back up)."""


def package_imports(imported: set[str]) -> set[str]:
    return {i for i in imported if i.startswith("langgraph_mediator.")}


@pytest.mark.parametrize("part", list(NO_ARROWS_UP))
def test_no_import_runs_back_up(part: str) -> None:
    modules, allowed = NO_ARROWS_UP[part]
    offenders = {
        module: sorted(i for i in package_imports(imported) if not i.startswith(allowed))
        for module, imported in modules_under().items()
        if module.startswith(modules)
        and any(not i.startswith(allowed) for i in package_imports(imported))
    }
    assert offenders == {}


def test_the_product_does_not_import_the_harness_or_the_cli() -> None:
    outside = ("langgraph_mediator.evals", "langgraph_mediator.cli")
    offenders = {
        module: sorted(i for i in imported if i.startswith(outside))
        for module, imported in modules_under().items()
        if not module.startswith(outside) and any(i.startswith(outside) for i in imported)
    }
    assert offenders == {}


def test_the_graphs_and_the_harness_import_without_matplotlib() -> None:
    code = (
        "import sys, langgraph_mediator.graphs.mediator, langgraph_mediator.graphs.refiner, "
        "langgraph_mediator.cli, langgraph_mediator.evals.benchmark; "
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def function_lengths() -> list[tuple[int, str]]:
    """``(lines, "module:function")`` for every function in the package, longest first."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append((length, f"{module_name(path)}:{node.name}"))
    return sorted(found, reverse=True)


def test_no_function_is_longer_than_50_lines() -> None:
    assert [f for f in function_lengths() if f[0] > 50] == []


REFINER_SHELLS = (
    "langgraph_mediator.nodes",
    "langgraph_mediator.graphs",
    "langgraph_mediator.cli",
    "langgraph_mediator.evals",
    "langgraph_mediator.session",
    "langgraph.runtime",
    "langgraph.types",
)
"""What the Refiner core may not import: the shells over it, and what only a running graph has."""


def test_the_refiner_core_holds_no_langgraph_node_and_no_shell() -> None:
    offenders = {
        module: sorted(i for i in imported if i.startswith(REFINER_SHELLS))
        for module, imported in modules_under("core/refiner").items()
        if any(i.startswith(REFINER_SHELLS) for i in imported)
    }
    assert modules_under("core/refiner")
    assert offenders == {}


def module_imports() -> dict[str, set[str]]:
    """Which of the package's modules each one imports, type-only imports included.

    ``from package import submodule`` counts as the submodule alone: a module
    taking a sibling through their package does not make a circle with the
    package's ``__init__`` that imports it.
    """
    modules = modules_under()
    graph: dict[str, set[str]] = {}
    for module, imported in modules.items():
        named = {i for i in imported if i in modules and i != module}
        parents = {i.rsplit(".", 1)[0] for i in named}
        graph[module] = {
            i for i in named if i not in parents or _imports_names_of(module, i, modules)
        }
    return graph


def _imports_names_of(module: str, package: str, modules: dict[str, set[str]]) -> bool:
    """Whether ``module`` takes from ``package`` a name that is not a submodule of it."""
    path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        path = path.with_suffix("") / "__init__.py"
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == package
        and any(f"{package}.{alias.name}" not in modules for alias in node.names)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def import_circle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports in ``graph`` (``[]`` if there is none), its first module repeated."""
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        for imported in sorted(graph[module]):
            if circle := walk(imported, [*path, module]):
                return circle
        done.add(module)
        return []

    return next((c for m in sorted(graph) if (c := walk(m, []))), [])


def test_no_two_modules_import_each_other_even_for_types() -> None:
    assert import_circle(module_imports()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_circle(graph) == ["a", "b", "c", "a"]
    assert import_circle({"a": {"b"}, "b": set()}) == []
