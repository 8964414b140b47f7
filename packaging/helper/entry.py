"""PyInstaller's entry script for the standalone helper: the same ``main`` as ``myna-bridge``."""

from __future__ import annotations

from bridge.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
