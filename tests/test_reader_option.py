"""The ``--reader NAME`` option: the physical-card tests are skipped unless asked for, and run
against whatever card sits in the named PC/SC reader when asked.

There is no physical card on a CI machine, so the "asked for" half runs against the simulated
card behind a real pcscd + vsmartcard-vpcd (marker ``pcsc``): to pyscard it is one more reader.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mynacard.jpki import JpkiSession
from mynacard.pins import PinKind
from mynacard.visual import VisualApSession
from tests.pcsc import (  # noqa: F401 - the fixture is used by name
    PcscSim,
    PyscardConnection,
    pcsc_sim,
)

ROOT = Path(__file__).resolve().parents[1]
PHYSICAL = "tests/test_physical_reader.py"


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", PHYSICAL, "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def _counts(output: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|error)", output)}


def test_without_the_option_every_physical_card_test_is_skipped_saying_how_to_run_it() -> None:
    result = _pytest()
    assert result.returncode == 0, result.stdout + result.stderr
    counts = _counts(result.stdout)
    assert counts.get("skipped", 0) >= 4 and "passed" not in counts and "failed" not in counts
    assert "pass --reader NAME" in result.stdout


def test_with_ci_set_they_are_still_skipped_not_failed() -> None:
    env_ci = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        result = _pytest()
    finally:
        if env_ci is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = env_ci
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in _counts(result.stdout)


@pytest.mark.pcsc
def test_an_unknown_reader_name_fails_and_lists_the_readers(pcsc_sim: PcscSim) -> None:  # noqa: F811
    result = _pytest("--reader", "No Such Reader 00 00")
    assert result.returncode != 0
    assert _counts(result.stdout).get("failed", 0) + _counts(result.stdout).get("error", 0) >= 4
    assert "no such reader" in result.stdout
    assert pcsc_sim.reader in result.stdout


@pytest.mark.pcsc
def test_with_the_option_they_read_the_card_in_that_reader_and_spend_no_try(
    pcsc_sim: PcscSim,  # noqa: F811
) -> None:
    result = _pytest("--reader", pcsc_sim.reader)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _counts(result.stdout).get("passed", 0) >= 4
    with PyscardConnection(pcsc_sim.reader) as conn:
        jpki = JpkiSession(conn)
        assert jpki.pin_status(PinKind.JPKI_AUTH).tries_left == 3
        assert jpki.pin_status(PinKind.JPKI_SIGN).tries_left == 5
        assert VisualApSession(conn).pin_b_status().tries_left == 10
