"""Settings load from the environment in a fresh interpreter, as a deployment would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "MYNA_PRODUCTION": "true",
    "SECRET_KEY": "x" * 30 + "-production-secret-key-for-tests-0123456789",
    "ALLOWED_HOSTS": "reset.example.jp",
    "MYNA_TRUST_ANCHORS": "/etc/myna-reset/anchors",
    "MYNA_ISSUER_BACKEND": "kiosk.tests.production_issuer.FixedKeyIssuer",
}


def run_manage(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MYNA_", "DB_", "DEBUG"))}
    clean.update({"MYNA_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "webapp.settings"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False,
    )


def test_check_deploy_passes_with_production_variables(tmp_path: Path) -> None:
    result = run_manage(["check", "--deploy"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    output = result.stderr + result.stdout
    assert "ERRORS" not in output
    # The one warning left is HSTS preload, a commitment each deployment makes for itself
    # (SECURE_HSTS_PRELOAD=true); every other deploy check passes.
    assert set(re.findall(r"security\.W\d+", output)) <= {"security.W021"}


def test_check_deploy_warns_without_production_variables(tmp_path: Path) -> None:
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], {}, tmp_path)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS outside production


@pytest.mark.parametrize(
    "env,message",
    [
        ({"DEBUG": "perhaps"}, "DEBUG must be a boolean"),
        ({"MYNA_NONCE_TTL_SECONDS": "five"}, "MYNA_NONCE_TTL_SECONDS must be an integer"),
        ({"MYNA_NONCE_TTL_SECONDS": "5"}, "MYNA_NONCE_TTL_SECONDS must be at least 30"),
        ({"DB_ENGINE": "oracle"}, "DB_ENGINE must be"),
        ({**PRODUCTION_ENV, "SECRET_KEY": ""}, "SECRET_KEY (or SECRET_KEY_FILE) is required"),
        ({**PRODUCTION_ENV, "SECRET_KEY": "short"}, "at least 50 characters"),
        ({**PRODUCTION_ENV, "DEBUG": "true"}, "DEBUG must be off"),
        ({**PRODUCTION_ENV, "MYNA_TRUST_ANCHORS": "sim"}, "MYNA_TRUST_ANCHORS must name"),
        ({**PRODUCTION_ENV, "MYNA_ISSUER_BACKEND": "simulated"}, "must name a real IssuerBackend"),
        ({"MYNA_ISSUER_MASTER_KEY": "abc"}, "MYNA_ISSUER_MASTER_KEY must be 64"),
        ({**PRODUCTION_ENV, "ALLOWED_HOSTS": "reset.example.jp,*"}, "not '*'"),
        ({"MYNA_PUBLIC_ORIGIN": "https://Reset.example.jp"}, "MYNA_PUBLIC_ORIGIN must be"),
        ({"MYNA_PUBLIC_ORIGIN": "https://reset.example.jp/app"}, "MYNA_PUBLIC_ORIGIN must be"),
        ({"MYNA_KIOSK_OPENS": "6.30"}, "MYNA_KIOSK_OPENS must be a time of day"),
        ({"MYNA_KIOSK_CLOSES": "24:00"}, "MYNA_KIOSK_CLOSES must be a time of day"),
        ({"MYNA_KIOSK_OPENS": "23:00"}, "must differ"),
    ],
)
def test_bad_values_stop_start_up(env: dict[str, str], message: str, tmp_path: Path) -> None:
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_development_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    assert run_manage(["check"], {}, tmp_path).returncode == 0
    first = (tmp_path / "dev-secret-key").read_text()
    assert run_manage(["check"], {}, tmp_path).returncode == 0
    assert (tmp_path / "dev-secret-key").read_text() == first
    assert len(first) >= 50


def test_a_public_origin_with_a_trailing_slash_is_accepted(tmp_path: Path) -> None:
    env = {"MYNA_PUBLIC_ORIGIN": "https://reset.example.jp:8443/"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode == 0, result.stderr
