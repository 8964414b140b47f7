"""The wizard's pages list the kiosk stores of the data file (reservations.kiosk_stores)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from mynacard.targets import TargetPassword
from reset.tests.conftest import put_state
from reset.wizard_state import Step

STORES: dict[str, Any] = {
    "checked": "2030-01",
    "details_url": "https://example.test/stores",
    "stores": [
        {"id": "alpha", "name": "アルファ商店", "name_en": "Alpha Mart", "sign": True,
         "auth": True},
        {"id": "beta", "name": "ベータ商店", "name_en": "Beta Mart", "sign": True, "auth": False},
    ],
}


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "stores.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_the_card_page_routes_with_the_stores_from_the_file(
    client: Client, tmp_path: Path
) -> None:
    put_state(client, target=TargetPassword.AUTH, step=Step.CARD_FACE)
    with override_settings(MYNA_KIOSK_STORES_FILE=str(_write(tmp_path, STORES))):
        response = client.get("/reset/card/")
    config = json.loads(
        response.content.decode().split('id="wizard-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["stores"] == ["アルファ商店"]


@pytest.mark.django_db
def test_the_done_and_help_pages_list_the_stores_for_the_target(
    client: Client, tmp_path: Path
) -> None:
    put_state(
        client,
        target=TargetPassword.AUTH,
        step=Step.DONE,
        card_identity="c" * 64,
        photo_sha256="d" * 64,
        face_passed_at=time.time(),
    )
    client.get("/reset/done/")
    with override_settings(MYNA_KIOSK_STORES_FILE=str(_write(tmp_path, STORES))):
        done = client.get("/reset/reservation/").content.decode()
        help_page = client.get("/help/").content.decode()
    assert "アルファ商店" in done and "ベータ商店" not in done
    assert "2030-01" in done and "https://example.test/stores" in done
    assert "アルファ商店" in help_page and "ベータ商店" in help_page


@pytest.mark.django_db
def test_with_no_store_for_the_target_the_done_page_says_go_to_the_counter(
    client: Client, tmp_path: Path
) -> None:
    none_for_auth = {"stores": [{"id": "b", "name": "ベータ商店", "sign": True}]}
    put_state(
        client,
        target=TargetPassword.AUTH,
        step=Step.DONE,
        card_identity="c" * 64,
        photo_sha256="d" * 64,
        face_passed_at=time.time(),
    )
    client.get("/reset/done/")
    with override_settings(MYNA_KIOSK_STORES_FILE=str(_write(tmp_path, none_for_auth))):
        done = client.get("/reset/reservation/").content.decode()
    assert 'id="store-list-empty"' in done and "ベータ商店" not in done
