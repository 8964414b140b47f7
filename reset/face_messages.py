"""What `/ws/face/` says to the resident: message texts and the page's language.

Japanese follows the official app's 顔認証 screens (shared/seed/official-app-walkthrough-ja.txt);
English comes from the Django catalogue (locale/en/LC_MESSAGES/django.po). The consumer sends the
codes with the text, and the page shows the text as is.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from faceverify.liveness import Prompt
from faceverify.placement import Placement
from faceverify.quality import Advice

logger = logging.getLogger(__name__)

PROMPT_TEXT: dict[Prompt, str] = {
    Prompt.TURN_LEFT: gettext_noop("左を向いてください"),
    Prompt.FACE_FRONT: gettext_noop("正面を向いてください"),
    Prompt.SMILE: gettext_noop("笑顔になってください"),
}
ADVICE_TEXT: dict[Advice, str] = {
    Advice.NO_FACE: gettext_noop("顔が見つかりません。カメラに向かって正面を見てください。"),
    Advice.MULTIPLE_FACES: gettext_noop("画面に映るのはご本人お一人にしてください。"),
    Advice.TOO_DARK: gettext_noop("暗すぎます。明るい場所で行ってください。"),
    Advice.BACKLIT: gettext_noop("逆光になっています。光を背にしない場所で行ってください。"),
    Advice.TOO_BRIGHT: gettext_noop("明るすぎます。照明が反射しない場所で行ってください。"),
    Advice.TOO_SMALL: gettext_noop("もう少しカメラに近づいてください。"),
    Advice.TOO_LARGE: gettext_noop("カメラから少し離れてください。"),
    Advice.BLURRY: gettext_noop("画像がぼやけています。カメラを固定して、動かないでください。"),
    Advice.MOUTH_COVERED: gettext_noop("マスクなど顔を覆うものを外してください。"),
    Advice.BROWS_COVERED: gettext_noop("髪で顔の輪郭や眉が隠れないようにしてください。"),
    Advice.FACE_FRONT: gettext_noop("カメラに向かってまっすぐ正面を見てください。"),
}
# Where the face is against the guide oval, said in words (issue 18): the direction is the
# resident's own, as in the mirrored preview (faceverify/placement.py).
PLACEMENT_TEXT: dict[Placement, str] = {
    Placement.CENTRED: gettext_noop("顔が枠の中に入っています。"),
    Placement.LEFT: gettext_noop("顔が左に寄っています。少し右へ動いてください。"),
    Placement.RIGHT: gettext_noop("顔が右に寄っています。少し左へ動いてください。"),
    Placement.HIGH: gettext_noop("顔が上に寄っています。少し下へ動いてください。"),
    Placement.LOW: gettext_noop("顔が下に寄っています。少し上へ動いてください。"),
    Placement.FAR: gettext_noop("もう少し近づいてください。"),
    Placement.NEAR: gettext_noop("少し離れてください。"),
}
ERROR_TEXT: dict[str, str] = {
    "bad_message": gettext_noop("送信された内容を読み取れませんでした。"),
    "bad_state": gettext_noop("この操作は今は行えません。"),
    "wrong_reference": gettext_noop(
        "ICチップの顔写真が確認できませんでした。カードの読み取りからやり直してください。"
    ),
    "reference_unusable": gettext_noop(
        "ICチップの顔写真から顔を検出できませんでした。窓口でお手続きください。"
    ),
    "frame_too_large": gettext_noop("画像が大きすぎます。"),
    "too_fast": gettext_noop("画像の送信間隔が短すぎます。"),
    "undecodable": gettext_noop("画像を読み取れませんでした。"),
    "dimensions": gettext_noop("画像のサイズが対応していません。"),
}
RESULT_TEXT: dict[str, str] = {
    "passed": gettext_noop("顔認証が完了しました。"),
    "timeout": gettext_noop("時間内に指示どおりの動作を確認できませんでした。"),
    "static": gettext_noop(
        "動きが確認できませんでした。写真や録画ではなく、ご本人がカメラの前にいてください。"
    ),
    "face_changed": gettext_noop(
        "途中で別の顔に変わりました。最初から最後までご本人だけが映るようにしてください。"
    ),
    "not_live": gettext_noop(
        "ご本人の顔の動きを確認できませんでした。写真や画面ではなく、ご本人がカメラの前で指示に従ってください。"
    ),
    "no_match": gettext_noop("ICチップの顔写真と一致しませんでした。"),
    "too_few_frames": gettext_noop("正面の顔を十分に確認できませんでした。"),
    "too_many_attempts": gettext_noop(
        "試行回数の上限に達しました。お住まいの市区町村窓口でお手続きください。"
    ),
    # The server lost the attempt (a face worker died): not the resident's fault, not counted.
    "interrupted": gettext_noop("処理が中断されました。もう一度お試しください。"),
}


def text(language: str, message: str) -> str:
    """`message` (one of the tables above) in the page's language."""
    with translation.override(language):
        return translation.gettext(message)


def page_language(scope: dict[str, Any]) -> str:
    """The page's language, chosen as LocaleMiddleware would: the language cookie, then
    Accept-Language, then LANGUAGE_CODE — so messages match the page they appear on."""
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME, "")]
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _q in translation.trans_real.parse_accept_lang_header(accept)]
    for code in candidates:
        if not code or code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return str(settings.LANGUAGE_CODE)
