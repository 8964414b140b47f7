"""Texts the kiosk script shows (translated here, so the page carries them as JSON)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from mynacard.targets import TargetPassword
from reservations.models import target_label


def kiosk_strings() -> dict[str, str]:
    return {
        "known.sign": target_label(TargetPassword.SIGN),
        "known.auth": target_label(TargetPassword.AUTH),
        "enter_known": _("%(name)sを入力してください"),
        "tries_left": _("残り入力回数:%(n)s回"),
        "last_try": _(
            "残り入力回数が1回です。間違えるとパスワードがロックされ、市区町村窓口での手続きが"
            "必要になります。入力したパスワードで続けますか?"
        ),
        "locked": _(
            "このパスワードはロックされています。お住まいの市区町村窓口でお手続きください。"
        ),
        "wrong_pin": _("パスワードが違います。残り入力回数:%(n)s回"),
        "format.sign": _(
            "英大文字(A〜Z)と数字(0〜9)をそれぞれ1文字以上含む6〜16文字で入力してください。"
        ),
        "format.auth": _("数字4桁で入力してください。"),
        "mismatch": _("確認のため入力したパスワードが一致しません。もう一度入力してください。"),
        "repeated": _("同じ数字の繰り返しは設定できません。"),
        "sequence": _("「1234」のような連続した数字は設定できません。"),
        "no_helper": _(
            "カードリーダーに接続できません。係員にお知らせください。"
        ),
        "card_error": _("カードを読み取れませんでした。カードを置き直してください。"),
        "card_removed": _("カードが取り外されました。最初の画面に戻ります。"),
        "server_error": _("通信できませんでした。最初からやり直してください。"),
        "key.back": _("1文字消す"),
        "key.clear": _("すべて消す"),
    }
