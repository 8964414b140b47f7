"""The photo identity documents a clerk may record after an in-person check (type only).

One list for the counter resets (kiosk.counter) and the assisted booking's in-person face check
(staff.assisted_forms): the audit log and the database hold the code, never a document number.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityDocument(models.TextChoices):
    MY_NUMBER_CARD = "my_number_card", _("マイナンバーカード(券面の顔写真)")
    DRIVERS_LICENSE = "drivers_license", _("運転免許証")
    DRIVING_RECORD = "driving_record", _("運転経歴証明書")
    PASSPORT = "passport", _("旅券(パスポート)")
    RESIDENCE_CARD = "residence_card", _("在留カード・特別永住者証明書")
    DISABILITY_CERTIFICATE = "disability_certificate", _("身体障害者手帳")
    OTHER_PHOTO_ID = "other_photo_id", _("その他の官公署発行の顔写真付き証明書")
