"""`manage.py reset_housekeeping` and the deploy/ schedules that run it, doing the real work."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from reservations.models import Reservation, ReservationState
from reset import limits, nonces
from reset.models import AttemptCounter, ServerNonce

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CARD_A, CARD_B = "a" * 64, "b" * 64
SESSION = "c" * 64


def _seed(now: datetime) -> None:
    """One overdue and one current item of each kind the command cleans."""
    Reservation.book(card_identity=CARD_A, target="sign", now=now - timedelta(hours=30))
    Reservation.book(card_identity=CARD_B, target="sign", now=now - timedelta(hours=1))
    old = limits.Limit("evidence_session", 5, 3600)
    limits.consume(old, SESSION, now=now - timedelta(days=3))
    limits.consume(old, SESSION, now=now)
    # Two sessions: issuing prunes the issuing session's own expired nonces.
    nonces.issue("e" * 64, "evidence:sign", now=now.timestamp() - 3600)
    nonces.issue(SESSION, "evidence:sign", now=now.timestamp() + 1)


@pytest.mark.django_db
@pytest.mark.backends
def test_one_run_cleans_every_kind_and_keeps_what_is_current() -> None:
    now = timezone.now()
    _seed(now)
    out = StringIO()
    call_command("reset_housekeeping", stdout=out)
    assert out.getvalue().strip() == (
        "expired 1 reservation(s), pruned 1 counter(s), deleted 1 expired nonce(s)"
    )
    states = dict(Reservation.objects.values_list("card_identity", "state"))
    assert states == {CARD_A: ReservationState.EXPIRED, CARD_B: ReservationState.ACTIVE}
    assert AttemptCounter.objects.count() == 1
    assert AttemptCounter.objects.get().window_start > now - timedelta(hours=2)
    assert ServerNonce.objects.count() == 1
    assert ServerNonce.objects.get().expires_at > now

    # Nothing left to do: a second run changes nothing (the timer may fire twice).
    again = StringIO()
    call_command("reset_housekeeping", stdout=again)
    assert again.getvalue().startswith("expired 0 reservation(s), pruned 0 counter(s), deleted 0")


# --------------------------------------------------------------------------- the schedules
def _cron_entry() -> tuple[str, str, str]:
    """(schedule, user, command) of the one job line in deploy/cron/."""
    lines = (DEPLOY / "cron" / "myna-reset-housekeeping").read_text(encoding="utf-8").splitlines()
    jobs = [line for line in lines if line and not line.startswith("#") and "=" not in line[:12]]
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 6)
    return " ".join(fields[:5]), fields[5], fields[6]


def _systemd_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def test_the_timer_and_the_cron_line_share_one_schedule() -> None:
    timer = _systemd_unit("myna-reset-housekeeping.timer")
    assert timer["Timer"]["OnCalendar"] == "*:0/15"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    schedule, user, _ = _cron_entry()
    assert schedule == "*/15 * * * *"
    service = _systemd_unit("myna-reset-housekeeping.service")["Service"]
    assert user == service["User"] == "myna-reset"
    assert service["Type"] == "oneshot"


def _operator_site(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A migrated SQLite site with one overdue reservation, and its env file, as an operator has."""
    env_file = tmp_path / "env"
    env_file.write_text(
        f"DB_NAME={tmp_path / 'site.sqlite3'}\nMYNA_VAR_DIR={tmp_path}\nLOG_FORMAT=json\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYNA_", "DB_", "REDIS_"))}
    env.update({"DB_NAME": str(tmp_path / "site.sqlite3"), "MYNA_VAR_DIR": str(tmp_path)})
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    book = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from reservations.models import Reservation; "
        "Reservation.book(card_identity='d'*64, target='auth', "
        "now=timezone.now() - timedelta(days=2))"
    )
    subprocess.run([python, "manage.py", "shell", "-c", book], cwd=ROOT, env=env, check=True)
    return env_file, env


def _state_of_the_one_reservation(env: dict[str, str]) -> str:
    show = "from reservations.models import Reservation; print(Reservation.objects.get().state)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_cron_line_runs_as_written(tmp_path: Path) -> None:
    env_file, env = _operator_site(tmp_path)
    _, _, command = _cron_entry()
    log = tmp_path / "housekeeping.log"
    # Only the host's paths change: the checkout, the env file, the log and the venv's python.
    command = (
        command.replace("/opt/myna-reset", str(ROOT))
        .replace("/etc/myna-reset/env", str(env_file))
        .replace("/var/log/myna-reset/housekeeping.log", str(log))
        .replace(".venv/bin/python", sys.executable)
    )
    clean = {"PATH": os.environ["PATH"], "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    subprocess.run(["/bin/sh", "-c", command], env=clean, check=True, timeout=120)
    assert "expired 1 reservation(s)" in log.read_text(encoding="utf-8")
    assert '"event": "housekeeping"' in log.read_text(encoding="utf-8")
    assert _state_of_the_one_reservation(env) == "expired"


def test_the_systemd_service_runs_as_written(tmp_path: Path) -> None:
    env_file, env = _operator_site(tmp_path)
    service = _systemd_unit("myna-reset-housekeeping.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == service["WorkingDirectory"] + "/.venv/bin/python"
    assert service["EnvironmentFile"] == "/etc/myna-reset/env"
    unit_env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        unit_env[key] = value
    result = subprocess.run(
        [sys.executable, *argv[1:]], cwd=ROOT, env=unit_env, check=True, timeout=120,
        capture_output=True, text=True,
    )
    assert "expired 1 reservation(s)" in result.stdout
    assert _state_of_the_one_reservation(env) == "expired"


def test_a_run_against_a_database_it_cannot_open_fails_loudly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYNA_", "DB_", "REDIS_"))}
    env.update({"DB_NAME": str(tmp_path / "missing" / "x.sqlite3"), "MYNA_VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "manage.py", "reset_housekeeping"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    # systemd marks the unit failed and cron's log shows it: a silent success would hide an outage.
    assert result.returncode != 0
    assert "OperationalError" in result.stderr
