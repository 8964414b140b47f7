"""How a reservation's face step was completed, for the staff reservation page (issue 12)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from reservations.assisted import AssistedSession
from reservations.identity_documents import LABELS, IdentityDocument
from reservations.models import FaceCheck, Reservation
from staff.assisted_forms import InPersonReason

register = template.Library()


@register.simple_tag
def face_check_summary(reservation: Reservation) -> str:
    """「顔認証」, or the in-person check: by whom, which kind of document, why (codes → labels)."""
    label = str(reservation.get_face_check_display())
    row = in_person_check(reservation)
    if row is None:
        return label
    return _("%(label)s(職員: %(clerk)s、確認書類: %(document)s、理由: %(reason)s)") % {
        "label": label,
        "clerk": row.clerk.get_username(),
        "document": LABELS[IdentityDocument(row.document_type)],
        "reason": InPersonReason(row.in_person_reason).label,
    }


@register.simple_tag
def in_person_check(reservation: Reservation) -> AssistedSession | None:
    """The assisted session whose clerk completed this reservation's face step, if any.

    Its audit record was written before the booking existed (no reservation ID in it), so the
    history shows the check from here.
    """
    if reservation.face_check != FaceCheck.IN_PERSON:
        return None
    return (
        AssistedSession.objects.filter(reservation=reservation, in_person_at__isnull=False)
        .select_related("clerk")
        .first()
    )
