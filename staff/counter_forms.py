"""Forms of the counter pages: reservation look-up, revoke, audit filter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reservations.audit_log import AuditAction
from staff.action_labels import ACTION_LABELS
from staff.revoke_reasons import RevokeReason


class LookupForm(forms.Form):
    reservation_id = forms.UUIDField(
        label=_("予約番号"),
        error_messages={
            "invalid": _(
                "予約番号の形式が正しくありません(例: 1b4e28ba-2fa1-11d2-883f-0016d3cca427)。"
            ),
            "required": _("予約番号を入力してください。"),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("取消の理由"),
        # A blank first choice: the clerk picks a reason deliberately, never the default.
        choices=[("", _("選んでください"))] + RevokeReason.choices,
        error_messages={
            "required": _("取消の理由を選んでください。"),
            "invalid_choice": _("取消の理由を選んでください。"),
        },
    )


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("操作"),
        required=False,
        choices=[("", _("すべて"))] + [(a.value, ACTION_LABELS[a]) for a in AuditAction],
    )
    actor = forms.CharField(label=_("操作者"), required=False, max_length=150)
    reservation = forms.UUIDField(
        label=_("予約番号"),
        required=False,
        error_messages={"invalid": _("予約番号の形式が正しくありません。")},
    )
    since = forms.DateField(
        label=_("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
