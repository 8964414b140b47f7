"""The configured issuer: the simulated one resets a simulated card; production needs a real one."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from kiosk.issuer import ProductionIssuerSlot, SimulatedIssuer, issuer_backend
from mynacard.constants import SW
from mynacard.errors import WrongPinError
from mynacard.jpki import JpkiSession
from mynacard.pins import PinKind
from mynacard.sim import SimulatedCard, SimulatedConnection, demo_profile
from mynacard.targets import TargetPassword
from webapp.tests.test_settings import PRODUCTION_ENV, run_manage


@pytest.fixture(autouse=True)
def _fresh_backend() -> None:
    issuer_backend.cache_clear()


def test_the_default_backend_shares_the_simulators_key_and_resets_its_card() -> None:
    card = SimulatedCard(demo_profile())
    with override_settings(MYNA_ISSUER_BACKEND="simulated", MYNA_ISSUER_MASTER_KEY=""):
        channel = issuer_backend().open_channel(card.identity)
    assert isinstance(issuer_backend(), SimulatedIssuer)
    assert card.process(channel.select())[1] == SW.OK
    host = channel.authenticate(*card.process(channel.initialize()))
    channel.check_authenticated(card.process(host)[1])
    channel.check_reset(*card.process(channel.reset_password(TargetPassword.AUTH, "7391")))
    jpki = JpkiSession(SimulatedConnection(card))
    jpki.verify(PinKind.JPKI_AUTH, "7391")
    with pytest.raises(WrongPinError):
        jpki.verify(PinKind.JPKI_AUTH, "2580")


def test_a_configured_master_key_is_not_the_simulators() -> None:
    card = SimulatedCard(demo_profile())
    with override_settings(MYNA_ISSUER_BACKEND="simulated", MYNA_ISSUER_MASTER_KEY="ab" * 32):
        channel = issuer_backend().open_channel(card.identity)
    card.process(channel.select())
    from mynacard.issuer import IssuerChannelError

    with pytest.raises(IssuerChannelError):
        channel.authenticate(*card.process(channel.initialize()))


def test_the_production_slot_refuses_to_be_built() -> None:
    with pytest.raises(ImproperlyConfigured, match="HSM-held issuer key"):
        ProductionIssuerSlot()
    with override_settings(MYNA_ISSUER_BACKEND="kiosk.issuer.ProductionIssuerSlot"):
        with pytest.raises(ImproperlyConfigured):
            issuer_backend()
    with override_settings(MYNA_ISSUER_BACKEND="kiosk.issuer.no_such_thing"):
        with pytest.raises(ImproperlyConfigured):
            issuer_backend()


def test_production_start_up_fails_with_the_empty_slot(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "MYNA_ISSUER_BACKEND": "kiosk.issuer.ProductionIssuerSlot"}
    result = run_manage(["check", "--deploy"], env, tmp_path)
    assert result.returncode != 0
    assert "kiosk.E001" in result.stderr + result.stdout
