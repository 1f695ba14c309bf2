"""geo/ is pure and synchronous: no event loop, no network, no database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

GEO = Path(__file__).resolve().parents[2] / "geo"
FORBIDDEN = ("asyncio", "aiohttp", "asyncpg", "sqlalchemy", "psycopg", "geoalchemy2", "dispatch")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_geo_sources_import_nothing_impure() -> None:
    offenders = {p.name: sorted(_imports(p) & set(FORBIDDEN)) for p in GEO.glob("*.py")}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_geo_has_no_coroutines() -> None:
    for path in GEO.glob("*.py"):
        tree = ast.parse(path.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef | ast.Await)], path.name


def test_importing_geo_loads_nothing_impure() -> None:
    modules = sorted(p.stem for p in GEO.glob("*.py") if p.stem != "__init__")
    code = (f"import geo, sys\nfor m in {modules!r}: __import__('geo.' + m)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=GEO.parent)
    assert out.stdout.strip() == "[]"
