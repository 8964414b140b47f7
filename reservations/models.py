"""Reservations: what the wizard books and the kiosk completes. No personal data.

Both `reset` (booking) and `kiosk` (completion, staff console) use this app; neither imports the
other (architecture.md, packages). The card is known only by a hash of its user-auth certificate
identity (`mynacard.evidence.card_identity`), readable at a kiosk without any password.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from mynacard.targets import TargetPassword

logger = logging.getLogger(__name__)

#: Kiosks, deadlines and the official app all speak Japan time.
JST = ZoneInfo("Asia/Tokyo")

#: How each target is named on every screen (official app wording).
TARGET_LABELS: Mapping[TargetPassword, Promise] = {
    TargetPassword.SIGN: _("署名用パスワード"),
    TargetPassword.AUTH: _("利用者証明用パスワード"),
}


def target_label(target: str) -> str:
    """The Japanese (or translated) name of a target value; ValueError for an unknown one."""
    return str(TARGET_LABELS[TargetPassword(target)])


class ReservationState(models.TextChoices):
    """Where a reservation is in its life; only `active` ones can be used at a kiosk."""

    ACTIVE = "active", _("有効")
    USED = "used", _("使用済み")
    EXPIRED = "expired", _("期限切れ")
    REVOKED = "revoked", _("取消")
    SUPERSEDED = "superseded", _("再予約により無効")


class FaceCheck(models.TextChoices):
    """How the booking's face step (trust model, check 4) was completed."""

    AUTOMATIC = "automatic", _("顔認証")
    # An assisted booking whose automated check failed: a clerk compared the resident with the
    # chip photo and an identity document at the counter (issue 12, assisted booking).
    IN_PERSON = "in_person", _("窓口職員による対面確認")


class ReservationQuerySet(models.QuerySet["Reservation"]):
    """Look-ups by card: the wizard books, the kiosk completes, the staff console searches."""

    def active_for(self, card_identity: str, target: str) -> ReservationQuerySet:
        return self.filter(
            card_identity=card_identity, target=target, state=ReservationState.ACTIVE
        )


class Reservation(models.Model):
    """A booked password reset, to be completed at a kiosk before `expires`.

    Holds no personal data: the card is known only by a hash of its certificate identity.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    #: mynacard.evidence.card_identity: the user-auth certificate, the same for both targets.
    card_identity = models.CharField(max_length=64, db_index=True)
    #: certificate_identity of the certificate whose key signed the booking (the password the
    #: resident still knows); the kiosk checks that the same key is proven there.
    signer_identity = models.CharField(max_length=64, blank=True, default="")
    target = models.CharField(
        max_length=8, choices=[(t.value, label) for t, label in TARGET_LABELS.items()]
    )
    created = models.DateTimeField()
    expires = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=ReservationState.choices, default=ReservationState.ACTIVE
    )
    state_changed = models.DateTimeField(null=True, blank=True)
    face_check = models.CharField(
        max_length=16, choices=FaceCheck.choices, default=FaceCheck.AUTOMATIC
    )

    objects = ReservationQuerySet.as_manager()

    class Meta:
        constraints = [
            # One usable booking per card and password: a kiosk must never have to choose.
            models.UniqueConstraint(
                fields=["card_identity", "target"],
                condition=models.Q(state="active"),
                name="reservation_one_active_per_card_target",
            )
        ]
        ordering = ["-created"]
        # The table keeps the name it had in `reset` (state-only move, migration 0001).
        db_table = "reset_reservation"

    def __str__(self) -> str:
        return f"{self.public_id} {self.target} {self.state}"

    @classmethod
    def book(
        cls,
        *,
        card_identity: str,
        target: str,
        signer_identity: str = "",
        face_check: str = "automatic",  # FaceCheck.AUTOMATIC
        now: datetime | None = None,
    ) -> Reservation:
        """Create an active reservation, superseding any earlier active one of the same card+target.

        Both happen in one transaction, so the unique constraint never sees two active rows and a
        failure leaves the earlier reservation untouched.
        """
        if target not in set(TargetPassword):
            raise ValueError(f"unknown target {target!r}")
        current = now or timezone.now()
        try:
            return cls._book_once(
                card_identity=card_identity,
                target=target,
                signer_identity=signer_identity,
                face_check=face_check,
                now=current,
            )
        except IntegrityError:
            # A concurrent booking of the same card and target (a double submit of the done step)
            # committed between our SELECT and INSERT. Both requests answer with that one active
            # reservation, so whichever response the browser keeps, its cookie names a usable
            # booking, and the resident never sees a server error.
            concurrent = cls.objects.active_for(card_identity, target).first()
            logger.info("reservation booking raced target=%s", target)
            if concurrent is not None:
                return concurrent
            return cls._book_once(
                card_identity=card_identity,
                target=target,
                signer_identity=signer_identity,
                face_check=face_check,
                now=current,
            )

    @classmethod
    def _book_once(
        cls,
        *,
        card_identity: str,
        target: str,
        signer_identity: str,
        now: datetime,
        face_check: str = "automatic",  # FaceCheck.AUTOMATIC
    ) -> Reservation:
        current = now
        hours = int(settings.MYNA_RESERVATION_HOURS)
        with transaction.atomic():
            earlier = list(cls.objects.select_for_update().active_for(card_identity, target))
            for old in earlier:
                expired = old.expires <= current
                old.state = ReservationState.EXPIRED if expired else ReservationState.SUPERSEDED
                old.state_changed = current
                old.save(update_fields=["state", "state_changed"])
            reservation = cls.objects.create(
                card_identity=card_identity,
                signer_identity=signer_identity,
                target=target,
                face_check=FaceCheck(face_check),
                created=current,
                expires=current + timedelta(hours=hours),
            )
        logger.info("reservation booked target=%s superseded=%d", target, len(earlier))
        return reservation

    def is_active(self, now: datetime | None = None) -> bool:
        """Usable at a kiosk: active and not yet past its deadline."""
        return self.state == ReservationState.ACTIVE and (now or timezone.now()) < self.expires

    def shows_deadline(self, now: datetime | None = None) -> bool:
        """The home page shows the deadline until it passes, even once used (official app)."""
        return (
            self.state in (ReservationState.ACTIVE, ReservationState.USED)
            and (now or timezone.now()) < self.expires
        )

    @property
    def deadline_jst(self) -> datetime:
        return self.expires.astimezone(JST)

    def mark_used(self, now: datetime | None = None) -> None:
        if not self.is_active(now):
            raise ValueError("only an active reservation can be used")
        self.state = ReservationState.USED
        self.state_changed = now or timezone.now()
        self.save(update_fields=["state", "state_changed"])

    def revoke(self, now: datetime | None = None) -> None:
        if self.state != ReservationState.ACTIVE:
            raise ValueError("only an active reservation can be revoked")
        self.state = ReservationState.REVOKED
        self.state_changed = now or timezone.now()
        self.save(update_fields=["state", "state_changed"])

    @classmethod
    def expire_due(cls, now: datetime | None = None) -> int:
        """Mark active reservations past their deadline as expired (housekeeping)."""
        current = now or timezone.now()
        return cls.objects.filter(state=ReservationState.ACTIVE, expires__lte=current).update(
            state=ReservationState.EXPIRED, state_changed=current
        )


# The audit log lives in its own module; importing it here registers its model with the app.
# So does the assisted booking's session (issue 12).
from reservations.assisted import AssistedSession  # noqa: E402, F401
from reservations.audit_log import AuditRecord  # noqa: E402, F401
