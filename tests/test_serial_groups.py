"""How scripts/test.sh's serial pass shares out its modules over two workers (conftest.py) and
shares one helper build between them (tests/helper_build.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import conftest
from tests import helper_build

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", conftest.FACE_CHECK_MODULES + conftest.CARD_AND_HELPER_MODULES)
def test_every_grouped_module_exists(module: str) -> None:
    # A renamed module would silently leave its group and run beside the others.
    assert (ROOT / module).is_file(), module


def test_face_check_modules_share_one_group_and_other_modules_keep_their_own() -> None:
    wizard = conftest.serial_scope("tests/e2e/test_wizard_e2e.py::test_a[x]")
    deploy = conftest.serial_scope("tests/test_deploy_stack.py::test_b")
    assert wizard == deploy == conftest.FACE_CHECK_GROUP
    kiosk_card = conftest.serial_scope("tests/test_kiosk_pcsc.py::test_c")
    helper = conftest.serial_scope("tests/e2e/test_helper_setup_e2e.py::test_d")
    assert kiosk_card == helper == conftest.CARD_AND_HELPER_GROUP
    assert conftest.serial_scope("tests/e2e/test_staff_e2e.py::test_e") == (
        "tests/e2e/test_staff_e2e.py"
    )


def _built_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stamp: str) -> None:
    out = tmp_path / "test-out"
    out.mkdir()
    (out / "helper.json").write_text(json.dumps({"artifacts": []}))
    (out / "test-run").write_text(stamp)
    monkeypatch.setattr(helper_build, "OUT", out)
    monkeypatch.setattr(helper_build, "RUN_STAMP", out / "test-run")
    monkeypatch.delenv("MYNA_HELPER_REUSE_BUILD", raising=False)


class _BuildStarted(Exception):
    pass


def _no_build(*args: Any, **kwargs: Any) -> None:
    raise _BuildStarted(args)


def test_a_worker_of_the_same_run_reuses_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _built_before(tmp_path, monkeypatch, "run-1")
    monkeypatch.setattr(subprocess, "run", _no_build)
    built = helper_build._build_or_reuse("run-1")
    assert built.out == tmp_path / "test-out" and built.seconds == 0.0


@pytest.mark.parametrize("run", ["run-2", ""], ids=["another run", "no xdist run id"])
def test_another_run_builds_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: str
) -> None:
    _built_before(tmp_path, monkeypatch, "run-1")
    monkeypatch.setattr(subprocess, "run", _no_build)
    with pytest.raises(_BuildStarted):
        helper_build._build_or_reuse(run)


def test_the_face_check_group_is_handed_out_first() -> None:
    queue = conftest.FaceChecksFirst()
    # xdist fills its queue with the groups of most tests first.
    for group in ("bridge/tests/test_protocol.py", conftest.CARD_AND_HELPER_GROUP,
                  conftest.FACE_CHECK_GROUP, "tests/e2e/test_card_face_js.py"):
        queue[group] = {}
    assert queue.popitem(last=False)[0] == conftest.FACE_CHECK_GROUP
    assert list(queue)[0] == "bridge/tests/test_protocol.py"
