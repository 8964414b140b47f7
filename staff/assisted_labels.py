"""How the assisted console names the codes it receives (the socket carries codes only)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

STEP_LABELS: Mapping[str, Promise] = {
    "": _("手続きの選択前"),
    "card_face": _("券面情報入力"),
    "reader": _("ICカードセット"),
    "password": _("パスワード入力"),
    "chip": _("ICチップ読み取り"),
    "face": _("顔認証"),
    "done": _("予約の登録中"),
    "booked": _("予約完了"),
}

READER_LABELS: Mapping[str, Promise | str] = {
    "idle": "—",
    "waiting_for_card": _("カードが置かれるのを待っています"),
    "card_set": _("カードを確認しました"),
    "reading_chip": _("ICチップを読み取っています"),
    "chip_verified": _("ICチップの読み取りと検証が済みました"),
}

FACE_RESULT_LABELS: Mapping[str, Promise] = {
    "": _("未実施"),
    "started": _("実施中"),
    "passed": _("成功"),
    "no_match": _("失敗(写真と一致しない)"),
    "timeout": _("失敗(時間切れ)"),
    "static": _("失敗(動きがない)"),
    "face_changed": _("失敗(途中で顔が変わった)"),
    "too_few_frames": _("失敗(確認に必要な映像が足りない)"),
    "not_live": _("失敗(生体確認ができない)"),
    "too_many_attempts": _("失敗(試行回数の上限)"),
    "interrupted": _("中断(サーバー側の問題。回数は減りません)"),
}


def console_labels() -> dict[str, dict[str, str]]:
    """All labels for the console page's script (json_script)."""
    return {
        "step": {code: str(label) for code, label in STEP_LABELS.items()},
        "reader": {code: str(label) for code, label in READER_LABELS.items()},
        "face": {code: str(label) for code, label in FACE_RESULT_LABELS.items()},
        "misc": {
            "waiting": str(_("端末の接続を待っています")),
            "joined": str(_("端末が接続されています")),
            "ended": str(_("終了しました")),
            "refusal": str(_("直前の操作が受け付けられませんでした(コード: %s)")),
            "failed_other": str(_("失敗(%s)")),
            "photo_requested": str(_("住民の方の端末に顔写真を求めています…")),
            "photo_error": str(_("顔写真を表示できませんでした(%s)。")),
            "socket_lost": str(_("サーバーとの接続が切れました。ページを再読み込みしてください。")),
            "unknown_tries": "—",
        },
    }
