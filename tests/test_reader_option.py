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

from tests.pcsc import (  # noqa: F401 - the fixture is used by name
    PcscSim,
    pcsc_sim,
)

ROOT = Path(__file__).resolve().parents[1]
PHYSICAL = "tests/test_physical_reader.py"


def _pytest(*args: str, path: str = PHYSICAL) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", path, "-q", "-rs", "-p", "no:cacheprovider", *args],
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


def test_only_tests_marked_reader_are_skipped_not_tests_that_merely_mention_a_reader() -> None:
    # The wizard has a step called "reader": its parametrized tests carry that word as a keyword.
    result = _pytest(
        "-k", "test_the_json_steps_refuse_an_expired_session",
        path="reset/tests/test_views_every_step.py",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _counts(result.stdout) == {"passed": 3}


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
    # Read in another process too: this one must not bind libpcsclite to a pcscd (tests.pcsc).
    counters = subprocess.run(
        [sys.executable, "-c", _COUNTERS, pcsc_sim.reader],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert counters.returncode == 0, counters.stderr
    assert counters.stdout.split() == ["3", "5", "10"]  # the demo card's full counters


_COUNTERS = """
import sys
from mynacard.jpki import JpkiSession
from mynacard.pins import PinKind
from mynacard.visual import VisualApSession
from tests.pcsc import PyscardConnection

with PyscardConnection(sys.argv[1]) as conn:
    jpki = JpkiSession(conn)
    auth, sign = (jpki.pin_status(kind) for kind in (PinKind.JPKI_AUTH, PinKind.JPKI_SIGN))
    print(auth.tries_left, sign.tries_left, VisualApSession(conn).pin_b_status().tries_left)
"""
