"""Book the reservation of one wizard run exactly once, however often its done step is requested.

A double click, a reload or ten simultaneous requests of `/reset/done/` all carry the same wizard
state (each request read the session before any of them cleared it). Without a guard each would
book, and each booking supersedes the one before (Reservation.book), so some responses would name
an already superseded reservation. The guard is a claim row that only one request can insert: the
first books in the same transaction; every other request waits for that transaction at the unique
index, then answers with the reservation it booked.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from reservations.models import Reservation
from reset.models import AttemptCounter
from reset.wizard_state import WizardState

logger = logging.getLogger(__name__)

#: AttemptCounter kind of the claim: "this wizard run has booked" (a limit of one, kept as a row).
CLAIM_KIND = "booking"


def _claim_key(session_hash: str, state: WizardState) -> str:
    """One key per wizard run: the session, when the run started, and the card it verified."""
    run = f"{session_hash}|{state.started_at!r}|{state.card_identity}|{state.target}"
    return hashlib.sha256(run.encode()).hexdigest()


def book_once(*, session_hash: str, state: WizardState) -> Reservation:
    """The reservation of this wizard run: booked now by the first request, found by the others."""
    key = _claim_key(session_hash, state)
    started = datetime.fromtimestamp(state.started_at, tz=UTC)
    try:
        with transaction.atomic():
            # The INSERT is the transaction's first statement: a concurrent twin blocks here on
            # the unique index (PostgreSQL) or the write lock (SQLite) until this one commits.
            AttemptCounter.objects.create(kind=CLAIM_KIND, key=key, window_start=started, count=1)
            return Reservation.book(
                card_identity=state.card_identity,
                target=state.target,
                signer_identity=state.signer_identity or state.card_identity,
                face_check=state.face_check,
            )
    except IntegrityError:
        logger.info("booking repeated for one wizard run target=%s", state.target)
    survivor = Reservation.objects.active_for(state.card_identity, state.target).first()
    if survivor is None:
        # Booked, then superseded or used since: the newest booking of this card and password.
        survivor = Reservation.objects.filter(
            card_identity=state.card_identity, target=state.target
        ).first()
    if survivor is None:  # pragma: no cover - the claim and the booking commit together
        raise RuntimeError("a booking claim without its reservation")
    return survivor
