"""mynacard is the bottom layer: importing all of it pulls in no Django, pyscard or websockets
(issue 3, style.md "Layers separated by import")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_CHECK = """
import importlib, pkgutil, sys
import mynacard
for info in pkgutil.walk_packages(mynacard.__path__, "mynacard."):
    if ".tests" in info.name or info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
forbidden = sorted(
    name for name in sys.modules
    if name.split(".")[0] in {"django", "smartcard", "websockets", "channels"}
)
print(",".join(forbidden))
"""


def test_importing_every_module_pulls_in_no_upper_layer() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK],
        cwd=_PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
