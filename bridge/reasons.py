"""Stable reason codes the bridge puts on final failures, each with the fix shown to the resident.

The page maps ``reason`` to its own help text; the ``fix`` sent with it is the bridge's default
Japanese advice, so a page that does not know a new code still shows something useful
(style.md, "Local helper": stable codes, each with a fix; peers.md: the top complaints are an
undetected reader, a stopped PC/SC service and another program holding the reader).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum, unique
from typing import Any

logger = logging.getLogger(__name__)


@unique
class BridgeReason(StrEnum):
    """Why a command failed. Values are part of the public protocol: never rename one."""

    # Reader and PC/SC service
    NO_PCSC_SERVICE = "NO_PCSC_SERVICE"
    NO_READER = "NO_READER"
    READER_NOT_SELECTED = "READER_NOT_SELECTED"
    READER_GONE = "READER_GONE"
    READER_BUSY = "READER_BUSY"
    PCSC_ERROR = "PCSC_ERROR"
    # Card
    NO_CARD = "NO_CARD"
    CARD_REMOVED = "CARD_REMOVED"
    CARD_UNRESPONSIVE = "CARD_UNRESPONSIVE"
    NOT_MY_NUMBER_CARD = "NOT_MY_NUMBER_CARD"
    CARD_COMMUNICATION_ERROR = "CARD_COMMUNICATION_ERROR"
    CERTIFICATE_UNAVAILABLE = "CERTIFICATE_UNAVAILABLE"
    # PINs (spec §4.4, §6.2)
    MALFORMED_PIN = "MALFORMED_PIN"
    WRONG_PIN = "WRONG_PIN"
    PIN_BLOCKED = "PIN_BLOCKED"
    LAST_TRY_CONFIRMATION_REQUIRED = "LAST_TRY_CONFIRMATION_REQUIRED"
    # Protocol / workflow
    BAD_ARGUMENT = "BAD_ARGUMENT"
    CANCELLED = "CANCELLED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


#: True only when the card left between APDUs; see fix_after_interrupted_verify.
_NO_TRY_SPENT = "暗証番号の入力回数は増えていません。"
_TRY_MAYBE_SPENT = (
    "暗証番号を送った直後だったため、入力回数が1回減った可能性があります。"
    "カードを置き直すと残りの回数を確認できます。"
)

_LIKELY_HOLDERS = (
    "JPKI利用者ソフト、e-Taxソフト、マイナポータルAP、"
    "他のブラウザーのカード読み取り機能"
)

FIXES: dict[BridgeReason, str] = {
    BridgeReason.NO_PCSC_SERVICE: (
        "カードリーダーのサービスが動いていません。Windows では「Smart Card」サービス (SCardSvr)、"
        "Linux では pcscd を起動してから、もう一度お試しください。"
    ),
    BridgeReason.NO_READER: (
        "カードリーダーが見つかりません。USB ケーブルを差し直し、"
        "ドライバーが入っているか確認してください。"
    ),
    BridgeReason.READER_NOT_SELECTED: (
        "カードリーダーが複数つながっています。使うカードリーダーを画面で選んでください。"
    ),
    BridgeReason.READER_GONE: (
        "操作の途中でカードリーダーが外れました。差し直してから、もう一度お試しください。"
    ),
    BridgeReason.READER_BUSY: (
        "別のプログラムがカードリーダーを使っています。" + _LIKELY_HOLDERS + "などを終了してから、"
        "もう一度お試しください。"
    ),
    BridgeReason.PCSC_ERROR: (
        "カードリーダーでエラーが起きました。カードリーダーを差し直し、もう一度お試しください。"
    ),
    BridgeReason.NO_CARD: (
        "カードがカードリーダーに置かれていません。マイナンバーカードを置いてください。"
    ),
    BridgeReason.CARD_REMOVED: (
        "読み取りの途中でカードが離れました。カードを置き直し、"
        "読み取りが終わるまで動かさないでください。" + _NO_TRY_SPENT
    ),
    BridgeReason.CARD_UNRESPONSIVE: (
        "カードが応答しません。接触型リーダーでは IC チップの向き (表裏・上下) を確かめ、"
        "非接触型リーダーではカードを中央に平らに置いてください。"
    ),
    BridgeReason.NOT_MY_NUMBER_CARD: (
        "置かれたカードはマイナンバーカードではないようです。ほかのカードを外して、"
        "マイナンバーカードだけを置いてください。"
    ),
    BridgeReason.CARD_COMMUNICATION_ERROR: (
        "カードとの通信に失敗しました。カードを置き直して、もう一度お試しください。"
    ),
    BridgeReason.CERTIFICATE_UNAVAILABLE: (
        "このカードには必要な電子証明書が入っていません (15歳未満の方の署名用電子証明書など)。"
        "市区町村の窓口にご相談ください。"
    ),
    BridgeReason.MALFORMED_PIN: (
        "入力の形式が正しくありません (カードには送っていないので、入力回数は減っていません)。"
        "桁数と使える文字を確かめてください。"
    ),
    BridgeReason.WRONG_PIN: (
        "暗証番号 (または券面の入力事項) が違います。"
        "残りの入力回数に注意して、もう一度入力してください。"
    ),
    BridgeReason.PIN_BLOCKED: (
        "この暗証番号はロックされています。このサービスでは解除できません。"
        "市区町村の窓口で初期化の手続きをしてください。"
    ),
    BridgeReason.LAST_TRY_CONFIRMATION_REQUIRED: (
        "残りの入力回数が1回です。間違えるとロックされます。確かな場合だけ、確認のうえ送信してください。"
    ),
    BridgeReason.BAD_ARGUMENT: "画面からの要求に誤りがあります。ページを読み込み直してください。",
    BridgeReason.CANCELLED: "操作を取り消しました。",
    BridgeReason.INTERNAL_ERROR: (
        "カード読み取りソフトで予期しないエラーが起きました。ソフトを再起動してください。"
    ),
}


def fix_after_interrupted_verify(reason: BridgeReason) -> str:
    """The fix when the link failed with a VERIFY in flight: the try may have been counted.

    A card may count the try before it answers (spec §4.4: the counter, not the answer, is
    the state), so "no try spent" would be a promise the bridge cannot keep.
    """
    return FIXES[reason].removesuffix(_NO_TRY_SPENT) + _TRY_MAYBE_SPENT


def failure_fields(reason: BridgeReason, extra: Mapping[str, Any]) -> dict[str, Any]:
    """What every failure puts on the wire: the stable reason, its fix, then any extras."""
    return {"reason": reason.value, "fix": FIXES[reason], **extra}


class BridgeFailure(Exception):
    """A final failure with a stable reason; ``extra`` adds reply fields (e.g. tries_left)."""

    def __init__(self, reason: BridgeReason, message: str = "", **extra: Any) -> None:
        self.reason = reason
        self.extra = extra
        super().__init__(message or reason.value)

    def fields(self) -> dict[str, Any]:
        """The reply fields this failure adds: reason, fix, and any extras."""
        return failure_fields(self.reason, self.extra)


class OperationCancelled(BridgeFailure):
    """The client sent CANCEL, or went away, while a card operation ran."""

    def __init__(self) -> None:
        super().__init__(BridgeReason.CANCELLED, "operation cancelled")
