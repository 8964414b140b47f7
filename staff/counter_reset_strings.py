"""What the clerk's counter-reset console says for each progress state and failure reason.

The terminal reports codes only (kiosk.counter_session.Progress and reason codes); the console
turns them into these texts. None of them can carry a value the resident typed.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def progress_strings() -> dict[str, str]:
    return {
        "state.waiting_terminal": _("窓口端末の応答を待っています。"),
        "state.paired": _("窓口端末と接続しました。カードを置くよう案内してください。"),
        "state.card_present": _("カードを確認しました。"),
        "state.waiting_input": _("住民の方が窓口端末で新しいパスワードを入力しています。"),
        "state.ready": _("入力が終わりました。「初期化を実行する」を押してください。"),
        "state.working": _("カードを初期化しています。カードを動かさないよう案内してください。"),
        "state.done": _("初期化が完了しました。入力回数を確認しています。"),
        "state.counter_full": _("初期化が完了し、入力回数が最大に戻りました。"),
        "state.counter_not_full": _(
            "初期化は完了しましたが、入力回数が最大に戻っていません。確認してください。"
        ),
        "state.failed": _("初期化できませんでした(理由コード:%(reason)s)。"),
        "state.cancelled": _("手続きを中止しました(理由コード:%(reason)s)。"),
        # A state with a reason the clerk is told in words (counter-reset.js: state.<s>.<reason>).
        "state.cancelled.terminal_lost": _(
            "窓口端末との接続が切れたため、手続きを中止しました。最初からやり直してください。"
        ),
        "no_terminal": _(
            "受付番号の窓口端末が応答しません。受付番号を確認して、最初からやり直してください。"
        ),
        "socket_closed": _("接続が切れました。最初からやり直してください。"),
        "tries": _("%(name)s:残り入力回数 %(n)s回"),
    }
