"""No two modules of the project import each other, directly or round a longer loop.

Imports inside functions count too: hiding one side of a cycle in a function only moves the
failure to run time. Read from the source, so the check needs no Django set-up.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("avatar_studio", "offline_engine")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source, name, known, *, is_package=False):
    """The modules of ``known`` that module ``name`` (with ``source``) imports, anywhere in it."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports the module; ``from module import name``
            # imports the module itself.
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for candidate in candidates:
            if candidate in known and candidate != name:
                found.add(candidate)
    return found


def import_graph():
    files = [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    known = {module_name(path): path for path in files}
    # A package's __init__ is imported by every import of its modules; those here are empty
    # or lazy, so they would only add loops that do not exist at run time.
    modules = {name: path for name, path in known.items() if path.name != "__init__.py"}
    return {
        name: imported_modules(path.read_text(), name, set(modules))
        for name, path in modules.items()
    }


def find_cycle(graph):
    """One import loop as a list of module names, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return trail[trail.index(target) :] + [target]
            if target not in state and (cycle := visit(target, [*trail, target])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_the_project_has_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import loop: " + " -> ".join(cycle)


def test_the_check_finds_a_loop():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from . import steps\n", {"avatar_studio.avatars.pipeline.steps"}),
        (
            "def later():\n    from .steps import submit_job\n",
            {"avatar_studio.avatars.pipeline.steps"},
        ),
        ("from ..models import AvatarJob\n", {"avatar_studio.avatars.models"}),
        ("import avatar_studio.avatars.models\n", {"avatar_studio.avatars.models"}),
    ],
)
def test_relative_absolute_and_function_level_imports_are_read(source, expected):
    known = {"avatar_studio.avatars.pipeline.steps", "avatar_studio.avatars.models"}
    name = "avatar_studio.avatars.pipeline.probe"
    assert imported_modules(source, name, known) == expected
