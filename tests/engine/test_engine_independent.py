"""The engine and the web app stay apart: neither imports the other.

The engine is started as a process (``python -m offline_engine``) and spoken to over HTTP, so it
must import with no Django and no ``avatar_studio`` installed, and the web app must never reach
into it. Only tests and the tools may import both.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "offline_engine"
WEB_APP = ROOT / "avatar_studio"

# Every engine module, imported with the web app's packages made unimportable first.
IMPORT_WITHOUT_DJANGO = textwrap.dedent(
    """
    import importlib
    import pkgutil
    import sys

    BLOCKED = ("django", "avatar_studio", "celery")
    for name in BLOCKED:
        sys.modules[name] = None  # importing it (or anything under it) now raises ImportError

    import offline_engine
    import offline_engine.avatar.renderer
    import offline_engine.protocol.app
    import offline_engine.protocol.server
    import offline_engine.tryon.renderer
    import offline_engine.vision.networks

    found = pkgutil.walk_packages(offline_engine.__path__, "offline_engine.")
    names = [info.name for info in found]
    for name in names:
        importlib.import_module(name)
    print(len(names), "modules")
    """
)


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the packages a source file imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_engine_imports_with_no_django_and_no_web_app():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_DJANGO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("modules")


def test_engine_sources_import_neither_django_nor_the_web_app():
    sources = sorted(ENGINE.rglob("*.py"))
    assert len(sources) > 20
    offending = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in sources
        if (found := imported_modules(path) & {"django", "avatar_studio"})
    }
    assert not offending


def test_web_app_never_imports_the_engine():
    sources = sorted(WEB_APP.rglob("*.py"))
    offending = [
        str(path.relative_to(ROOT))
        for path in sources
        if {"offline_engine", "tools"} & imported_modules(path)
    ]
    assert not offending
