"""English is complete: every message of the catalogue is translated, none left fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client
from django.utils import translation

from mynacard.targets import TargetPassword
from reset.page_strings import card_page_strings

PO = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _entries() -> list[tuple[str, str, str]]:
    text = PO.read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:
            join = lambda m: "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))  # noqa: E731
            entries.append((join(msgid), join(msgstr), block))
    return entries


def test_every_message_is_translated() -> None:
    entries = [e for e in _entries() if e[0]]
    assert len(entries) > 200
    untranslated = [msgid for msgid, msgstr, _ in entries if not msgstr]
    fuzzy = [msgid for msgid, _, block in entries if "#, fuzzy" in block]
    assert not untranslated, untranslated[:5]
    assert not fuzzy, fuzzy[:5]


def test_the_card_page_strings_exist_in_english() -> None:
    with translation.override("en"):
        strings = card_page_strings(TargetPassword.SIGN)
    japanese = {k: v for k, v in strings.items() if re.search(r"[\u3040-\u30ff]", v)}
    # Only the date templates keep the era names (昭和, 令和 …), which are proper names.
    assert not japanese, japanese


def test_pages_switch_language_with_the_cookie(client: Client) -> None:
    client.cookies["django_language"] = "en"
    body = client.get("/guide/").content.decode()
    assert "What you need" in body
    assert '<html lang="en">' in body


def test_every_camera_panel_text_has_a_translatable_page_string() -> None:
    """cardface.js falls back to Japanese for a key the page does not send; none may be missing."""
    import re
    from pathlib import Path

    from reset.page_strings import card_face_camera_strings

    source = (Path(__file__).resolve().parents[2] / "static/reset/cardface.js").read_text()
    block = source[source.index("const TEXT = {") : source.index("let text = TEXT;")]
    keys = {q or bare for q, bare in re.findall(r'^\s*(?:"([^"]+)"|(\w+)):\s*"', block, re.M)}
    assert len(keys) > 20
    assert {f"cardface.{key}" for key in keys} == set(card_face_camera_strings())
