"""Which kiosk chains can finish which password reset, read from a data file (never hard-coded).

peers.md: the stores that handle each password type have changed over time (the 4-digit
利用者証明用 PIN needs particular chains), so the list is data an operator edits —
`reservations/kiosk_stores.json`, or the file named by the setting / environment variable
`MYNA_KIOSK_STORES_FILE`. A malformed file fails loudly instead of showing a wrong list.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from mynacard.targets import TargetPassword

logger = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).resolve().parent / "kiosk_stores.json"
TARGETS = tuple(TargetPassword)


class StoreListError(ValueError):
    """The store list file is missing or malformed."""


@dataclass(frozen=True)
class KioskStore:
    """One chain of stores whose kiosks (マルチコピー機) finish reservations."""

    id: str
    name: str
    name_en: str
    handles: frozenset[str]

    def label(self, language: str | None = None) -> str:
        lang = (language or get_language() or "ja").lower()
        return self.name_en if lang.startswith("en") and self.name_en else self.name


@dataclass(frozen=True)
class StoreList:
    """The whole file: the stores, when the list was last checked, and where to read more."""

    stores: tuple[KioskStore, ...]
    checked: str
    details_url: str

    def for_target(self, target: str) -> tuple[KioskStore, ...]:
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}")
        return tuple(store for store in self.stores if target in store.handles)

    def names_for(self, target: str, language: str | None = None) -> list[str]:
        return [store.label(language) for store in self.for_target(target)]


def configured_path() -> Path:
    raw = str(settings.MYNA_KIOSK_STORES_FILE)
    return Path(raw) if raw else DEFAULT_FILE


def _store(raw: Any, where: str) -> KioskStore:
    if not isinstance(raw, dict):
        raise StoreListError(f"{where}: each store must be an object")
    ident, name = raw.get("id"), raw.get("name")
    if not isinstance(ident, str) or not ident or not isinstance(name, str) or not name:
        raise StoreListError(f"{where}: 'id' and 'name' must be non-empty strings")
    name_en = raw.get("name_en", "")
    if not isinstance(name_en, str):
        raise StoreListError(f"{where}: 'name_en' must be a string")
    handles = set()
    for target in TARGETS:
        flag = raw.get(target, False)
        if not isinstance(flag, bool):
            raise StoreListError(f"{where}: '{target}' must be true or false")
        if flag:
            handles.add(target)
    return KioskStore(id=ident, name=name, name_en=name_en, handles=frozenset(handles))


def parse(data: Any, *, source: str = "store list") -> StoreList:
    """Validate the decoded JSON; raises StoreListError naming what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("stores"), list):
        raise StoreListError(f"{source}: expected an object with a 'stores' list")
    stores = tuple(_store(raw, f"{source}: stores[{i}]") for i, raw in enumerate(data["stores"]))
    ids = [store.id for store in stores]
    if len(set(ids)) != len(ids):
        raise StoreListError(f"{source}: duplicate store id")
    checked, details = data.get("checked", ""), data.get("details_url", "")
    if not isinstance(checked, str) or not isinstance(details, str):
        raise StoreListError(f"{source}: 'checked' and 'details_url' must be strings")
    if details and not details.startswith("https://"):
        raise StoreListError(f"{source}: 'details_url' must be an https:// address")
    return StoreList(stores=stores, checked=checked, details_url=details)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> StoreList:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreListError(f"{path}: cannot read the store list ({exc})") from None
    result = parse(data, source=path)
    logger.info("kiosk store list loaded stores=%d", len(result.stores))
    return result


def store_list() -> StoreList:
    """The configured list, re-read when the file changes (operators edit it in place)."""
    path = configured_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise StoreListError(f"{path}: cannot read the store list ({exc})") from None
    return _load(str(path), mtime)


def check_store_list(**_: Any) -> list[Any]:
    """Django system check: a broken store list is reported at start-up, not to a resident."""
    from django.core.checks import Error

    try:
        store_list()
    except StoreListError as exc:
        hint = "Fix the file or MYNA_KIOSK_STORES_FILE."
        return [Error(str(exc), hint=hint, id="reservations.E001")]
    return []
