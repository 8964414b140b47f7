"""Why a clerk revokes a reservation: a fixed list, so the audit log never holds free text."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RevokeReason(models.TextChoices):
    RESIDENT_REQUEST = "resident_request", _("本人からの申し出")
    BOOKED_IN_ERROR = "booked_in_error", _("予約の誤り")
    CARD_LOST = "card_lost", _("カードの紛失・盗難")
    SUSPECTED_MISUSE = "suspected_misuse", _("不正利用の疑い")
    OTHER = "other", _("その他")
