"""Cross-cutting request hygiene: CSRF on every state-changing endpoint, oversized JSON bodies,
and a double submit of the booking step."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from reservations.models import Reservation, ReservationQuerySet, ReservationState
from reset.tests.conftest import put_state
from reset.wizard_state import Step

pytestmark = [pytest.mark.django_db]

STATE_CHANGING = [
    "/reset/choose/",
    "/reset/progress/",
    "/reset/nonce/",
    "/reset/evidence/",
    "/reset/cardface/",
    "/reset/done/",
    "/reset/cancel/",
]


@pytest.mark.parametrize("url", STATE_CHANGING)
def test_every_state_changing_post_needs_the_csrf_token(url: str) -> None:
    strict = Client(enforce_csrf_checks=True)
    # The card-face camera read refuses any other step before it looks at the upload.
    put_state(strict, step=str(Step.CARD_FACE if url == "/reset/cardface/" else Step.CHIP))
    assert strict.post(url, data="{}", content_type="application/json").status_code == 403
    # The same request with the token gets past the CSRF layer (whatever the view then says).
    strict.get("/reset/choose/")
    token = strict.cookies["csrftoken"].value
    response = strict.post(
        url, data="{}", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code != 403


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
@pytest.mark.parametrize("url", ["/reset/progress/", "/reset/evidence/"])
def test_an_oversized_json_body_gets_a_reason_code(client: Client, url: str) -> None:
    put_state(client, step=str(Step.CHIP if url.endswith("evidence/") else Step.CARD_FACE))
    response = client.post(url, data=b"{" + b" " * 4096 + b"}", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert response.json()["message"]


def test_a_booking_that_races_another_answers_with_the_one_active_reservation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two concurrent done-step requests: the other one's row is committed after our SELECT saw
    # nothing active, so our INSERT hits the one-active-per-card constraint.
    concurrent = Reservation.book(card_identity="c" * 64, target="sign")
    original = ReservationQuerySet.active_for
    calls = {"n": 0}

    def first_sees_nothing(
        self: ReservationQuerySet, card: str, target: str
    ) -> ReservationQuerySet:
        calls["n"] += 1
        found = original(self, card, target)
        return found.none() if calls["n"] == 1 else found

    monkeypatch.setattr(ReservationQuerySet, "active_for", first_sees_nothing)
    booked = Reservation.book(card_identity="c" * 64, target="sign")
    assert booked.pk == concurrent.pk
    assert Reservation.objects.filter(state=ReservationState.ACTIVE).count() == 1
