"""Build the standalone helper from this tree once per test session (scripts/build-helper.sh).

The bridge protocol tests run against the built binary through a fixture switch
(bridge/tests/conftest.py), the package tests inspect and install the .deb, and the browser test
starts the built helper. Everything the build writes stays under build/helper (the script sets
PYINSTALLER_CONFIG_DIR there); the artifacts of this build go to build/helper/test-out, not to
dist/helper, so a deployment's own build is never replaced by a test build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.prerequisites import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "helper" / "test-out"
FOLDER = ROOT / "build" / "helper" / "dist" / "myna-bridge"
#: Held while one test process builds or checks the build: the serial pass runs on two xdist
#: workers (scripts/test.sh), and two PyInstaller runs into one folder break each other.
LOCK = ROOT / "build" / "helper" / "test-build.lock"
#: Which test run made the build in OUT: the run id xdist gives all workers of one run.
RUN_STAMP = OUT / "test-run"
#: The service origin the test build's .deb allows (MYNA_SERVICE_ORIGIN of the build).
TEST_SERVICE_ORIGIN = "https://reset.example.jp"


@dataclass(frozen=True)
class BuiltHelper:
    """Where the build put things, and what its manifest says."""

    folder: Path
    out: Path
    manifest: dict[str, Any]
    seconds: float

    @property
    def binary(self) -> Path:
        return self.folder / "myna-bridge"

    def artifact(self, kind: str) -> Path:
        for entry in self.manifest["artifacts"]:
            if entry["kind"] == kind:
                return self.out / entry["file"]
        raise LookupError(f"no {kind} artifact in {self.out / 'helper.json'}")


def build_helper() -> BuiltHelper:
    """Run the build script as a developer or CI would (``make helper``'s command), once per
    test run: the first worker of an xdist run to ask builds, the others wait for it and share
    its build.

    ``MYNA_HELPER_REUSE_BUILD=1`` reuses this directory's last test build instead (a developer
    re-running one test); CI never sets it, so it always builds from the clean tree.
    """
    for tool in ("dpkg-deb", "tar", "sha256sum"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is missing", what="the helper build")
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        return _build_or_reuse(os.environ.get("PYTEST_XDIST_TESTRUNUID", ""))


def _build_or_reuse(run: str) -> BuiltHelper:
    reuse = os.environ.get("MYNA_HELPER_REUSE_BUILD") == "1"
    this_run = bool(run) and RUN_STAMP.exists() and RUN_STAMP.read_text() == run
    if (reuse or this_run) and (OUT / "helper.json").exists():
        manifest = json.loads((OUT / "helper.json").read_text())
        return BuiltHelper(FOLDER, OUT, manifest, 0.0)
    venv = Path(os.environ.get("VENV", ROOT / ".venv"))
    shutil.rmtree(OUT, ignore_errors=True)
    env = {
        **os.environ,
        "VENV": str(venv),
        "HELPER_OUT": str(OUT),
        "MYNA_SERVICE_ORIGIN": TEST_SERVICE_ORIGIN,
    }
    env.pop("PYTHONPATH", None)  # the script sets it to the tree it builds
    started = time.monotonic()
    result = subprocess.run(
        ["/bin/bash", str(ROOT / "scripts" / "build-helper.sh")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"build-helper.sh failed:\n{result.stdout}\n{result.stderr}")
    manifest = json.loads((OUT / "helper.json").read_text())
    if run:
        RUN_STAMP.write_text(run)
    return BuiltHelper(FOLDER, OUT, manifest, time.monotonic() - started)


@contextlib.contextmanager
def running_helper(binary: Path, *, port: int, origin: str, log: Path) -> Iterator[str]:
    """The built helper with the simulated card, allowing ``origin``; yields its ws:// URL."""
    from tests.pcsc import running_bridge

    args = ("--simulate", "--allow-origin", origin)
    with running_bridge(*args, port=port, log_path=log, program=[str(binary)]) as helper:
        yield helper.url
