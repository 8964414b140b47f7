"""The libraries stay below the web app: importing all of one pulls in no upper layer.

mynacard, faceverify and cardface import no Django, Channels, pyscard or websockets; bridge
imports no Django or Channels (issue 3 and 10, style.md "Layers separated by import").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[1]
_FRAMEWORKS = {"django", "channels"}
_CHECK = """
import importlib, pkgutil, sys
package = importlib.import_module({package!r})
for info in pkgutil.walk_packages(package.__path__, {package!r} + "."):
    if ".tests" in info.name or info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
forbidden = sorted(
    name for name in sys.modules if name.split(".")[0] in {forbidden!r}
)
print(",".join(forbidden))
"""


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("mynacard", _FRAMEWORKS | {"smartcard", "websockets"}),
        ("faceverify", _FRAMEWORKS | {"smartcard", "websockets"}),
        ("cardface", _FRAMEWORKS | {"smartcard", "websockets"}),
        ("bridge", _FRAMEWORKS),
    ],
)
def test_importing_every_module_pulls_in_no_upper_layer(package: str, forbidden: set[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK.format(package=package, forbidden=sorted(forbidden))],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
