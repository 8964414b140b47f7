"""What the kiosk screen says for every refusal and failure (official app wording where it has
one; the rest is ours). The consumer sends the reason code and this text; nothing else."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_COUNTER = _("お手数ですが、お住まいの市区町村窓口でお手続きください。")

REFUSALS: Mapping[str, Promise] = {
    "closed": _(
        "ただいまの時間はご利用いただけません。パスワード初期化のご利用時間は%(opens)s〜%(closes)s"
        "です。"
    ),
    "no_reservation": _(
        "このカードの初期化予約が見つかりません。スマートフォンまたはパソコンで初期化予約を行って"
        "から、もう一度お越しください。"
    ),
    "expired": _(
        "初期化予約の有効期限(予約から24時間)が過ぎています。もう一度初期化予約を行ってください。"
    ),
    "used": _("この初期化予約はすでに使用されています。パスワードは初期化済みです。"),
    "other_target": _(
        "このカードは、選択したものとは別のパスワードの初期化予約がされています。選択をご確認"
        "ください。"
    ),
    "superseded": _(
        "この初期化予約は、その後の再予約により無効になっています。最新の予約でお手続きください。"
    ),
    "revoked": _("この初期化予約は取り消されています。もう一度初期化予約を行ってください。"),
    "untrusted_certificate": _("このカードの電子証明書を確認できませんでした。") + _COUNTER,
    "certificate_expired": _(
        "電子証明書の有効期限が切れています。お住まいの市区町村窓口で更新手続きを行ってください。"
    ),
    "proof_failed": _(
        "パスワードの確認ができませんでした。カードを置き直して、最初からやり直してください。"
    ),
    "wrong_card": _(
        "予約したときと同じカード・同じパスワードで確認できませんでした。最初からやり直してください。"
    ),
    "card_refused": _(
        "カードとの通信で初期化を完了できませんでした。パスワードは変更されていません。最初から"
        "やり直してください。"
    ),
    "reservation_changed": _(
        "初期化予約の状態が変わったため、完了できませんでした。最初からやり直してください。"
    ),
    "bad_message": _("操作を受け付けられませんでした。最初からやり直してください。"),
}

PASSWORD_PROBLEMS: Mapping[str, Promise] = {
    "mismatch": _("確認のため入力したパスワードが一致しません。もう一度入力してください。"),
    "format_sign": _(
        "署名用パスワードは、英大文字(A〜Z)と数字(0〜9)をそれぞれ1文字以上含む6〜16文字で"
        "入力してください。"
    ),
    "format_auth": _("利用者証明用パスワードは、数字4桁で入力してください。"),
    "birth_date": _("生年月日など、他人に推測されやすい番号は設定できません。"),
    "repeated": _("同じ数字の繰り返しは設定できません。"),
    "sequence": _("「1234」のような連続した数字は設定できません。"),
}
