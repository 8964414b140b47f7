"""`kiosk` and `reservations` never import the resident wizard (architecture.md, packages)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["kiosk", "reservations", "staff"])
def test_the_package_never_imports_reset(package: str) -> None:
    offenders = [
        str(path.relative_to(_ROOT))
        for path in sorted((_ROOT / package).rglob("*.py"))
        if "reset" in _imported_top_levels(path)
    ]
    assert offenders == []


def test_the_check_sees_an_import_of_reset(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from reset.models import AttemptCounter\n", encoding="utf-8")
    assert "reset" in _imported_top_levels(module)
