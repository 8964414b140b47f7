"""What the counter terminal's page says (official app wording where it has one; the rest is
ours). The consumer sends reason codes with these texts; the page script gets the rest as JSON."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kiosk.messages import PASSWORD_PROBLEMS as KIOSK_PASSWORD_PROBLEMS
from mynacard.issuer import CounterCredential

#: How each credential is named on the counter screens (the two 4-digit PINs as on the
#: application form 「暗証番号再設定申請書」).
CREDENTIAL_LABELS: Mapping[CounterCredential, Promise] = {
    CounterCredential.SIGN: gettext_lazy("署名用パスワード"),
    CounterCredential.AUTH: gettext_lazy("利用者証明用パスワード"),
    CounterCredential.TEXT: gettext_lazy("券面事項入力補助用暗証番号"),
    CounterCredential.JUKI: gettext_lazy("住民基本台帳用暗証番号"),
}

_START_AGAIN = gettext_lazy("係員にお知らせください。")


def _again(text: Promise) -> Promise:
    # Joined lazily, so the page's language (not the import's) decides both halves.
    return format_lazy("{}{}", text, _START_AGAIN)


REFUSALS: Mapping[str, Promise] = {
    "untrusted_certificate": _again(gettext_lazy("このカードの電子証明書を確認できませんでした。")),
    "card_refused": _again(gettext_lazy(
        "カードとの通信で初期化を完了できませんでした。パスワードは変更されていない場合があります。"
    )),
    "card_removed": _again(gettext_lazy("カードが取り外されたため、手続きを中止しました。")),
    "cancelled": gettext_lazy("係員が手続きを中止しました。"),
    "resident_cancelled": gettext_lazy("手続きを中止しました。"),
    "clerk_left": _again(gettext_lazy("係員の画面との接続が切れたため、手続きを中止しました。")),
    "terminal_lost": _again(gettext_lazy("通信が切れたため、手続きを中止しました。")),
    "code_collision": _again(gettext_lazy("受付番号を確認できませんでした。")),
    "bad_message": _again(gettext_lazy("操作を受け付けられませんでした。")),
}

_FOUR_DIGITS = gettext_lazy("%(name)sは、数字4桁で入力してください。")

PASSWORD_PROBLEMS: Mapping[str, Promise | str] = {
    **KIOSK_PASSWORD_PROBLEMS,
    "format_text": _FOUR_DIGITS,
    "format_juki": _FOUR_DIGITS,
}


def password_problem_text(key: str, credential: CounterCredential) -> str:
    text = str(PASSWORD_PROBLEMS[key])
    return text % {"name": CREDENTIAL_LABELS[credential]} if "%(name)s" in text else text


def counter_strings() -> dict[str, str]:
    """Texts the counter terminal's script shows (translated here, carried as JSON)."""
    strings = {f"label.{c.value}": str(label) for c, label in CREDENTIAL_LABELS.items()}
    strings.update({
        "enter_new": _("新しい%(name)sを入力してください"),
        "rule.sign": _(
            "英大文字(A〜Z)と数字(0〜9)をそれぞれ1文字以上含む6〜16文字で入力してください。"
        ),
        "rule.four": _("数字4桁で入力してください。"),
        "mismatch": _("確認のため入力したパスワードが一致しません。もう一度入力してください。"),
        "repeated": _("同じ数字の繰り返しは設定できません。"),
        "sequence": _("「1234」のような連続した数字は設定できません。"),
        "no_helper": _("カードリーダーに接続できません。係員にお知らせください。"),
        "card_error": _("カードを読み取れませんでした。カードを置き直してください。"),
        "card_removed": str(REFUSALS["card_removed"]),
        "cancelled": str(REFUSALS["resident_cancelled"]),
        "server_error": _("通信できませんでした。係員にお知らせください。"),
        "key.back": _("1文字消す"),
        "key.clear": _("すべて消す"),
    })
    return strings
