"""How each audit action and result reads on the staff screens (the log keeps the codes)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from reservations.audit_log import AuditAction

ACTION_LABELS: Mapping[str, Promise] = {
    AuditAction.KIOSK_COMPLETION: _("キオスク端末での初期化"),
    AuditAction.STAFF_LOGIN: _("職員ログイン"),
    AuditAction.RESERVATION_VIEWED: _("予約の検索"),
    AuditAction.RESERVATION_REVOKED: _("予約の取消"),
    AuditAction.AUDIT_EXPORTED: _("操作記録の書き出し"),
    AuditAction.IDENTITY_CHECKED: _("窓口での本人確認"),
    AuditAction.COUNTER_RESET: _("窓口での初期化"),
    AuditAction.ASSISTED_OPENED: _("支援予約の開始"),
    AuditAction.ASSISTED_ENDED: _("支援予約の終了"),
}


def action_label(code: str) -> str:
    """The label of an action code; an unknown code (a newer release's) shows as itself."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code
