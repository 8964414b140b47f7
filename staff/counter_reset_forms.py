"""The clerk's counter-reset form: the in-person identity check first, then what to reset.

The document is recorded by TYPE only (a fixed list; the form has no field for its number), the
reason from a fixed list; both become codes in the audit record (kiosk.counter).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kiosk.counter import CounterReason
from kiosk.counter_session import (
    PLANS,
    TERMINAL_CODE_DIGITS,
    CounterOperation,
    is_terminal_code,
)
from reservations import identity_documents

REASON_LABELS: Mapping[CounterReason, Promise] = {
    CounterReason.BOTH_FORGOTTEN: _("署名用・利用者証明用の両方のパスワードを忘れた"),
    CounterReason.KEY_LOCKED: _("パスワードがロックされた"),
    CounterReason.FOUR_DIGIT_PIN: _("4桁の暗証番号(券面事項入力補助用・住民基本台帳用)の再設定"),
}
OPERATION_LABELS: Mapping[CounterOperation, Promise] = {
    CounterOperation.BOTH_FORGOTTEN: _("署名用パスワードと利用者証明用パスワードを再設定"),
    CounterOperation.SIGN_LOCKED_RESET: _("署名用パスワードのロック解除(新しいパスワードを設定)"),
    CounterOperation.SIGN_LOCKED_UNBLOCK: _("署名用パスワードのロック解除(パスワードは変えない)"),
    CounterOperation.AUTH_LOCKED_RESET: _(
        "利用者証明用パスワードのロック解除(新しいパスワードを設定)"
    ),
    CounterOperation.AUTH_LOCKED_UNBLOCK: _(
        "利用者証明用パスワードのロック解除(パスワードは変えない)"
    ),
    CounterOperation.TEXT_PIN: _("券面事項入力補助用暗証番号を再設定"),
    CounterOperation.JUKI_PIN: _("住民基本台帳用暗証番号を再設定"),
}


def _choices(labels: Mapping[Any, Promise]) -> list[tuple[str, Any]]:
    # A blank first choice: the clerk picks deliberately, never the default.
    return [("", _("選んでください"))] + [(code.value, label) for code, label in labels.items()]


class CounterResetForm(forms.Form):
    document = forms.ChoiceField(
        label=_("確認した本人確認書類(種類のみ。番号は記録しません)"),
        choices=_choices(identity_documents.LABELS),
        error_messages={
            "required": _("確認した本人確認書類を選んでください。"),
            "invalid_choice": _("確認した本人確認書類を選んでください。"),
        },
    )
    reason = forms.ChoiceField(
        label=_("来庁の理由"),
        choices=_choices(REASON_LABELS),
        error_messages={
            "required": _("来庁の理由を選んでください。"),
            "invalid_choice": _("来庁の理由を選んでください。"),
        },
    )
    operation = forms.ChoiceField(
        label=_("初期化する内容"),
        choices=_choices(OPERATION_LABELS),
        error_messages={
            "required": _("初期化する内容を選んでください。"),
            "invalid_choice": _("初期化する内容を選んでください。"),
        },
    )
    terminal = forms.CharField(
        label=format_lazy(
            _("窓口端末に表示されている受付番号({digits}桁)"), digits=TERMINAL_CODE_DIGITS
        ),
        max_length=TERMINAL_CODE_DIGITS,
        error_messages={"required": _("窓口端末に表示されている受付番号を入力してください。")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_terminal(self) -> str:
        code = str(self.cleaned_data["terminal"]).strip()
        if not is_terminal_code(code):
            raise forms.ValidationError(
                _("受付番号は%(digits)s桁の数字です。"), params={"digits": TERMINAL_CODE_DIGITS}
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        operation, reason = cleaned.get("operation"), cleaned.get("reason")
        if operation and reason and PLANS[CounterOperation(operation)].reason != reason:
            self.add_error("operation", _("来庁の理由と初期化する内容が合っていません。"))
        return cleaned
