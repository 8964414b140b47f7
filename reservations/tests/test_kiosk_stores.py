"""The kiosk store list is data: loaded from a JSON file, validated, and shown where it matters."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from reservations import kiosk_stores

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


def test_the_shipped_list_is_valid_and_every_target_has_a_store() -> None:
    shipped = kiosk_stores.parse(
        json.loads(kiosk_stores.DEFAULT_FILE.read_text(encoding="utf-8"))
    )
    assert shipped.for_target("sign") and shipped.for_target("auth")
    assert shipped.details_url.startswith("https://")


def test_the_shipped_list_names_every_operator_of_the_terms_of_use() -> None:
    raw = json.loads(kiosk_stores.DEFAULT_FILE.read_text(encoding="utf-8"))
    shipped = kiosk_stores.parse(raw)
    handles = {store.id: store.handles for store in shipped.stores}
    both, sign_only = frozenset({"sign", "auth"}), frozenset({"sign"})
    assert handles == {
        "seven-eleven": both,
        "aeon-retail": both,
        "aeon-hokkaido": both,
        "aeon-tohoku": both,
        "fuji": both,
        "lawson": sign_only,
        "familymart": sign_only,
        "ministop": sign_only,
    }
    # Some chains take part only in some stores: the label says so, in both languages.
    for ident in ("aeon-hokkaido", "aeon-tohoku", "fuji"):
        store = next(item for item in shipped.stores if item.id == ident)
        assert "一部店舗" in store.name and "some stores" in store.name_en
    # It stays data with its date and source.
    assert shipped.checked and "J-LIS" in raw["source"]


def test_it_filters_stores_by_the_password_they_handle(tmp_path: Path) -> None:
    with override_settings(MYNA_KIOSK_STORES_FILE=str(_write(tmp_path, STORES))):
        listed = kiosk_stores.store_list()
    assert [store.id for store in listed.for_target("sign")] == ["alpha", "beta"]
    assert [store.id for store in listed.for_target("auth")] == ["alpha"]
    assert listed.names_for("auth", "en") == ["Alpha Mart"]
    assert listed.names_for("auth", "ja") == ["アルファ商店"]
    with pytest.raises(ValueError):
        listed.for_target("juki")


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = _write(tmp_path, STORES)
    with override_settings(MYNA_KIOSK_STORES_FILE=str(path)):
        assert len(kiosk_stores.store_list().stores) == 2
        edited = {**STORES, "stores": STORES["stores"][:1]}
        path.write_text(json.dumps(edited), encoding="utf-8")
        stat = path.stat()
        # Make sure the modification time moves even on coarse file systems.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert len(kiosk_stores.store_list().stores) == 1


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"stores": "seven"},
        {"stores": [{"id": "", "name": "x"}]},
        {"stores": [{"id": "a", "name": "x", "auth": "yes"}]},
        {"stores": [{"id": "a", "name": "x"}, {"id": "a", "name": "y"}]},
        {"stores": [], "details_url": "http://insecure.test/"},
    ],
)
def test_a_malformed_list_fails_loudly(data: Any) -> None:
    with pytest.raises(kiosk_stores.StoreListError):
        kiosk_stores.parse(data)


def test_a_missing_file_fails_loudly(tmp_path: Path) -> None:
    with override_settings(MYNA_KIOSK_STORES_FILE=str(tmp_path / "absent.json")):
        with pytest.raises(kiosk_stores.StoreListError):
            kiosk_stores.store_list()


def test_the_system_check_reports_a_broken_list(tmp_path: Path) -> None:
    assert kiosk_stores.check_store_list() == []
    with override_settings(MYNA_KIOSK_STORES_FILE=str(_write(tmp_path, {"stores": 1}))):
        errors = kiosk_stores.check_store_list()
    assert [error.id for error in errors] == ["reservations.E001"]
