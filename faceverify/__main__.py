"""`python -m faceverify` — see faceverify.cli."""

from __future__ import annotations

import sys

from faceverify.cli import main

if __name__ == "__main__":
    sys.exit(main())
