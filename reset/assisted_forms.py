"""The counter terminal's join form of an assisted booking (reservations/assisted.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reservations.assisted import CODE_DIGITS


class JoinForm(forms.Form):
    code = forms.RegexField(
        label=_("支援コード(8桁)"),
        regex=rf"^[0-9]{{{CODE_DIGITS}}}$",
        error_messages={
            "invalid": _("支援コードは8桁の数字です。"),
            "required": _("支援コードを入力してください。"),
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": CODE_DIGITS}
        ),
    )
