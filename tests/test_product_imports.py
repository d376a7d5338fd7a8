"""The product never loads the evaluation harness: ``evaluation`` may import ``recommend``, never the reverse.

Checked twice: statically (no module of ``player_plugin/recommend`` names ``player_plugin.evaluation`` in
any import, even a lazy one) and in a fresh interpreter (importing every module of the package except
``player_plugin.evaluation.*`` leaves ``player_plugin.evaluation`` unloaded; the CLI's ``evaluate``
command imports it only when run). And the import graph of ``recommend`` and ``evaluation`` has no cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "player_plugin"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, *, lazy: bool = True) -> set[str]:
    """Modules ``path`` imports (absolute names; relative imports resolved). ``lazy=False``: only the
    imports that run when the module loads (not inside functions or ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    nodes = ast.walk(tree) if lazy else _load_time_nodes(tree.body)
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _load_time_nodes(body: list[ast.stmt]):
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if isinstance(node, ast.ClassDef):
                yield from _load_time_nodes(node.body)
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _load_time_nodes(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from _load_time_nodes(getattr(node, field, []) or [])


def test_recommend_never_imports_evaluation():
    offenders = {
        _module_name(p): sorted(m for m in _imports(p) if m.startswith("player_plugin.evaluation"))
        for p in (PACKAGE / "recommend").rglob("*.py")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, offenders


def test_importing_the_product_never_loads_the_harness():
    modules = sorted(
        _module_name(p)
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts and p.name != "__main__.py" and "evaluation" not in p.parts
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"  # an optional dependency (Qt) absent here: not the harness
        "        if (exc.name or '').startswith('player_plugin'):\n"
        "            raise\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('player_plugin.evaluation'))\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={"QT_QPA_PLATFORM": "offscreen"}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_import_cycle_between_the_product_and_the_harness():
    paths = [p for sub in ("recommend", "evaluation") for p in (PACKAGE / sub).rglob("*.py")]
    names = {_module_name(p): p for p in paths}
    graph = {name: {m for m in _imports(p, lazy=False) if m in names and m != name} for name, p in names.items()}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return path + [start]
                if nxt not in path:
                    stack.append((nxt, path + [nxt]))
        return None

    cycles = [c for c in map(cycle_from, sorted(graph)) if c]
    assert not cycles, cycles[0]
