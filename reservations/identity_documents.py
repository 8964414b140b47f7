"""The photo identity documents a clerk may record after an in-person check (type only).

One list for the counter resets (kiosk.counter) and the assisted booking's in-person face check
(staff.assisted_forms): the audit log and the database hold the code, never a document number.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum, unique

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@unique
class IdentityDocument(StrEnum):
    MY_NUMBER_CARD = "my_number_card"
    DRIVERS_LICENSE = "drivers_license"
    DRIVING_RECORD = "driving_record"
    PASSPORT = "passport"
    RESIDENCE_CARD = "residence_card"
    DISABILITY_CERTIFICATE = "disability_certificate"
    OTHER_PHOTO_ID = "other_photo_id"


LABELS: Mapping[IdentityDocument, Promise] = {
    IdentityDocument.MY_NUMBER_CARD: _("マイナンバーカード(券面の顔写真)"),
    IdentityDocument.DRIVERS_LICENSE: _("運転免許証"),
    IdentityDocument.DRIVING_RECORD: _("運転経歴証明書"),
    IdentityDocument.PASSPORT: _("旅券(パスポート)"),
    IdentityDocument.RESIDENCE_CARD: _("在留カード・特別永住者証明書"),
    IdentityDocument.DISABILITY_CERTIFICATE: _("身体障害者手帳"),
    IdentityDocument.OTHER_PHOTO_ID: _("その他の官公署発行の顔写真付き証明書"),
}


def choices() -> list[tuple[str, Promise]]:
    """Form choices, in the list's order."""
    return [(document.value, label) for document, label in LABELS.items()]
