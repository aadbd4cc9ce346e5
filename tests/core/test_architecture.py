"""The shape of portal/: no import cycle, and the import rules of README's "How it is built".

Read from the source with ``ast`` (imports inside functions included), so a cycle cannot hide in
a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
FEATURES = {"accounts", "contracts", "documents", "firm", "main", "operations", "partners", "platforms"}
FEATURES |= {"webhooks", "dev"}
SHARED = {"core", "models", "integrations", "messaging"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PORTAL.rglob("*.py")}


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The portal module an imported name lives in (``portal.core.outbox.enqueue`` → ``portal.core.outbox``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path) -> set[str]:
    """Every portal module ``path`` imports, at any depth (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in map(_resolve, (n for n in names if n.startswith("portal"))) if target)
    return found


GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_screen(module: str) -> bool:
    """Routes and forms: what a feature shows, never imported by another feature."""
    parts = module.split(".")
    return _area(module) in FEATURES and ("routes" in parts or parts[-1] == "forms")


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_module_graph_of_portal_has_no_cycle():
    assert cycles(GRAPH) == []


def test_only_the_cli_imports_the_demo():
    importers = {name for name, targets in GRAPH.items() if any(_area(t) == "demo" for t in targets)}
    assert {name for name in importers if _area(name) != "demo"} == {"portal.cli"}


def test_only_create_app_and_the_cli_import_the_tasks():
    importers = {name for name, targets in GRAPH.items() if "portal.tasks" in targets}
    assert importers <= {"portal", "portal.cli"}
    assert "portal.tasks" in imports_of(ROOT / "worker.py") | GRAPH["portal"]


def test_the_queue_and_the_outbox_never_import_a_feature():
    for name in ("portal.core.queue", "portal.core.outbox", "portal.core.schedule"):
        assert {_area(t) for t in GRAPH[name]} <= {"core", "models"}, name


@pytest.mark.parametrize("area", sorted(SHARED))
def test_shared_layers_import_no_feature(area):
    allowed = {"core": {"core", "models", "integrations"}, "models": {"models"}, "integrations": {"integrations"}}
    allowed["messaging"] = {"core", "models", "integrations", "messaging"}
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if _area(name) == area
        for target in targets
        if _area(target) not in allowed[area]
    }
    assert wrong == set()


def test_no_feature_imports_another_features_routes_or_forms():
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if _area(name) in FEATURES
        for target in targets
        if _is_screen(target) and _area(target) != _area(name)
    }
    assert wrong == set()


def test_use_cases_never_import_routes():
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if _area(name) in FEATURES | SHARED and not _is_screen(name)
        for target in targets
        if "routes" in target.split(".")
    }
    assert wrong == set()


def _enqueued_names() -> set[str]:
    """Job names queued anywhere in portal/: ``outbox.enqueue("name", ...)`` calls and the periodic slots."""
    from portal.core.schedule import PERIODIC

    names = {job for _name, job, *_rest in PERIODIC}
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "enqueue"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "outbox"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def test_every_queued_job_is_a_task_of_the_registry_and_every_task_is_queued_somewhere():
    from portal.tasks import TASKS

    assert len(_enqueued_names()) >= 8, "the scan found almost nothing: it would prove nothing"
    assert _enqueued_names() == set(TASKS)
    assert all(name == task.__name__ for name, task in TASKS.items())  # grep the name, find the function
