"""The staff login: user name, password and the TOTP code, all three on one form.

The code is checked by django-otp against the user's confirmed devices (its TOTP plugin, with
its own throttling after failures); a password alone never logs anyone in.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp import match_token
from django_otp.models import Device

from staff.roles import is_clerk

logger = logging.getLogger(__name__)

#: One message for every failure, so the form does not tell which part was wrong.
LOGIN_FAILED = _("ユーザー名、パスワードまたは確認コードが正しくありません。")


class StaffLoginForm(forms.Form):
    username = forms.CharField(label=_("ユーザー名"), max_length=150)
    password = forms.CharField(
        label=_("パスワード"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    otp_token = forms.RegexField(
        label=_("確認コード(6桁)"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("確認コードは6桁の数字です。")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: AbstractBaseUser | None = None
        self.device: Device | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        user = authenticate(
            self.request, username=data["username"], password=data["password"]
        )
        if user is None or not is_clerk(user):
            logger.info("staff login refused: password or role")
            raise forms.ValidationError(LOGIN_FAILED, code="login_failed")
        device = match_token(user, data["otp_token"])
        if device is None:
            logger.info("staff login refused: second factor")
            raise forms.ValidationError(LOGIN_FAILED, code="login_failed")
        self.user, self.device = user, device
        return data
