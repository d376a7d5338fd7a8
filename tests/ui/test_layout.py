"""The desktop app's shape, read from its source (no Qt): a thin window, and ui/ talking to the engine only."""

from __future__ import annotations

import ast
from pathlib import Path

import player_plugin.ui

UI_DIR = Path(player_plugin.ui.__file__).parent
MAIN_WINDOW_MAX_LINES = 400  # the window assembles panels and controllers; rules live elsewhere
MODULE_MAX_LINES = 400
ENGINE_INTERNALS = ("player_plugin.store", "player_plugin.recommend", "player_plugin.nlp")
PACKAGE = ("player_plugin", "ui")


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, absolute or relative."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: "." is player_plugin.ui, ".." is player_plugin
                base = ".".join(PACKAGE[: len(PACKAGE) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_main_window_is_thin():
    lines = len((UI_DIR / "main_window.py").read_text(encoding="utf-8").splitlines())
    assert lines < MAIN_WINDOW_MAX_LINES


def test_no_ui_module_is_over_the_size_limit():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in UI_DIR.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MODULE_MAX_LINES} == {}


def test_ui_imports_the_engine_not_its_internals():
    offenders = {}
    for path in sorted(UI_DIR.glob("*.py")):  # app.py too: it builds its engine in shared_encoder
        bad = sorted(m for m in _imported_modules(path) if m.startswith(ENGINE_INTERNALS))
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_the_import_check_sees_what_it_should(tmp_path):
    """The checker itself: top-level, nested and relative imports of the internals are all found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from player_plugin.store import Database\n"
        "def f():\n"
        "    import player_plugin.nlp.encoder\n"
        "from .. import recommend\n"
        "from player_plugin.engine import Engine\n",
        encoding="utf-8",
    )
    found = {m for m in _imported_modules(sample) if m.startswith(ENGINE_INTERNALS)}
    assert {"player_plugin.store", "player_plugin.nlp.encoder", "player_plugin.recommend"} <= found
