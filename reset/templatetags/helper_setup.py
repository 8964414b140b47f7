"""``{% helper_setup %}`` (the reader step's helper panels) and ``{% helper_downloads %}`` (help).

Both read the download manifest (reset/helper_downloads.py) and what the page needs of the helper
(settings MYNA_BRIDGE_API_LEVEL / MYNA_BRIDGE_MIN_VERSION), so the views stay as they are.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from reset.helper_downloads import SYSTEMS, load_offer

register = template.Library()


def _context() -> dict[str, Any]:
    offer = load_offer(settings.MYNA_HELPER_DOWNLOADS_DIR)
    return {
        "offer": offer,
        "by_system": offer.by_system(),
        "systems": SYSTEMS,
        "required_api": settings.MYNA_BRIDGE_API_LEVEL,
        "min_version": settings.MYNA_BRIDGE_MIN_VERSION,
    }


def _strings() -> dict[str, str]:
    """What static/reset/helper-setup.js says; %R %H %V %M are filled in by the page."""
    return {
        "connecting": _("カード読み取り用ソフトを確認しています…"),
        "connected": _("カード読み取り用ソフトに接続しました。"),
        "missing": _("カード読み取り用ソフトが見つかりません。"),
        "lna": _("ブラウザーの許可が必要です。下の説明を読んでから「接続する」を押してください。"),
        "blocked": _("ブラウザーがカード読み取り用ソフトへの接続を止めています。"),
        "outdated": _("カード読み取り用ソフトが古いため、このページでは使えません。"),
        "why.api": _(
            "このページは、カード読み取り用ソフトの新しい機能(APIレベル %R)を使います。お使いの"
            "ソフトはAPIレベル %H までにしか対応していないため、カードを読み取れません。"
        ),
        "why.version": _(
            "お使いのカード読み取り用ソフト(バージョン %V)は、このページが必要とするバージョン"
            " %M より古く、修正済みの問題が残っています。"
        ),
        "why.page_older": _(
            "このページの方が古いため、お使いのソフトと通信できません。ページを読み込み直してくだ"
            "さい。"
        ),
        "lost": _(
            "カード読み取り用ソフトとの接続が切れました。ソフトが起動しているか確認し、「もう一度"
            "確認」を押してください。"
        ),
    }


@register.inclusion_tag("reset/_helper_setup.html")
def helper_setup() -> dict[str, Any]:
    return {**_context(), "helper_strings": _strings()}


@register.inclusion_tag("reset/_helper_downloads.html")
def helper_downloads() -> dict[str, Any]:
    return _context()
