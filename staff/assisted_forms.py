"""The in-person check of an assisted booking: its form and fixed lists.

The in-person check records which kind of identity document the clerk saw and why the check was
done in person, each from a fixed list: the audit log and the database never hold a document
number or free text (issue 12; reservations/audit_log.py).
"""

from __future__ import annotations

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from reservations import identity_documents


class InPersonReason(models.TextChoices):
    """Why the face step was completed in person after the automated check failed."""

    CAMERA_CONDITIONS = "camera_conditions", _("カメラ・照明の条件で顔認証が完了しない")
    APPEARANCE_CHANGED = "appearance_changed", _("写真の撮影時から容貌が変わっている")
    CANNOT_FOLLOW_PROMPTS = "cannot_follow_prompts", _("身体的な理由で指示どおりに動けない")
    CANNOT_REMOVE_COVERING = "cannot_remove_covering", _("医療用マスク・眼鏡等を外せない")
    OTHER = "other", _("その他")


class InPersonForm(forms.Form):
    document_type = forms.ChoiceField(
        label=_("確認した本人確認書類(種類のみ。番号は記録しません)"),
        choices=[("", _("選んでください")), *identity_documents.choices()],
        error_messages={
            "required": _("確認した書類の種類を選んでください。"),
            "invalid_choice": _("確認した書類の種類を選んでください。"),
        },
    )
    reason = forms.ChoiceField(
        label=_("対面で確認した理由"),
        choices=[("", _("選んでください"))] + InPersonReason.choices,
        error_messages={
            "required": _("理由を選んでください。"),
            "invalid_choice": _("理由を選んでください。"),
        },
    )
