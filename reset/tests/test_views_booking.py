"""The done step books once per wizard run, and every answer names the booking that survives."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.test import Client

from reservations.models import Reservation, ReservationState
from reset import reservation_cookie
from reset.tests.conftest import put_state
from reset.wizard_state import SESSION_KEY, Step

JST = ZoneInfo("Asia/Tokyo")

PASSED = {"card_identity": "ab" * 32, "photo_sha256": "cd" * 32}


def _at_done(client: Client) -> dict[str, Any]:
    put_state(client, step=str(Step.DONE), face_passed_at=time.time(), **PASSED)
    return dict(client.session[SESSION_KEY])


def _named(response: Any) -> list[str]:
    """The reservation ids the response's cookie names. Not the signed value itself: that
    carries the time it was signed to the second, so two answers a second apart differ."""
    return reservation_cookie.unsign(str(response.cookies[reservation_cookie.COOKIE].value))


@pytest.mark.django_db
def test_a_done_request_that_read_the_session_before_the_first_booked_names_that_booking(
    client: Client,
) -> None:
    # Two requests of one double click: both read the wizard state before either cleared it.
    snapshot = _at_done(client)
    first = client.get("/reset/done/")
    session = client.session
    session[SESSION_KEY] = snapshot
    session.save()
    second = client.get("/reset/done/")

    assert Reservation.objects.count() == 1
    booked = Reservation.objects.get()
    assert booked.state == ReservationState.ACTIVE
    assert _named(first) and _named(first) == _named(second)
    assert str(booked.public_id) in _named(second)
    assert second["Location"].startswith("/reset/reservation/")


@pytest.mark.django_db
def test_a_new_wizard_run_of_the_same_card_books_again(client: Client) -> None:
    _at_done(client)
    client.get("/reset/done/")
    time.sleep(0.01)  # another run: another start time
    _at_done(client)
    client.get("/reset/done/")
    states = sorted(Reservation.objects.values_list("state", flat=True))
    assert states == [ReservationState.ACTIVE, ReservationState.SUPERSEDED]


@pytest.mark.backends
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_done_requests_book_once() -> None:
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared-cache memory database, whose table locks fail at
        # once instead of waiting; the same code waits on SQLite files (busy timeout) in service.
        pytest.skip("concurrent writers need PostgreSQL or an SQLite file")
    client = Client()
    _at_done(client)
    cookie = client.cookies
    barrier = threading.Barrier(10)
    responses: list[Any] = []
    lock = threading.Lock()

    def submit() -> None:
        twin = Client()
        twin.cookies = cookie
        barrier.wait()
        try:
            response = twin.get("/reset/done/")
            with lock:
                responses.append(response)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(responses) == 10
    assert [r.status_code for r in responses] == [302] * 10
    assert Reservation.objects.count() == 1
    survivor = str(Reservation.objects.get(state=ReservationState.ACTIVE).public_id)
    named = [_named(r) for r in responses if reservation_cookie.COOKIE in r.cookies]
    assert named and all(survivor in ids for ids in named)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/reset/face/", "/reset/card/", "/reset/done/"])
def test_back_after_booking_lands_on_the_booking_not_on_an_interruption(
    client: Client, page: str
) -> None:
    _at_done(client)
    booked_at = client.get("/reset/done/")["Location"]
    # The browser's Back goes to a wizard page whose state the booking cleared.
    response = client.get(page)
    assert response["Location"] == booked_at
    home = client.get("/").content.decode()
    assert "手続きが中断されました" not in home
    assert "初期化予約有効期限" in home


@pytest.mark.django_db
def test_after_a_new_run_starts_a_timeout_is_reported_again(client: Client) -> None:
    _at_done(client)
    client.get("/reset/done/")
    client.post("/reset/choose/", {"target": "auth"})
    put_state(client, step=str(Step.CARD_FACE), started_at=time.time() - 3600 * 5)
    response = client.get("/reset/card/", follow=True)
    assert "手続きが中断されました" in response.content.decode()


@pytest.mark.django_db
def test_home_shows_every_active_reservation_of_this_browser(client: Client) -> None:
    for target in ("sign", "auth"):
        put_state(
            client, step=str(Step.DONE), target=target, face_passed_at=time.time(), **PASSED
        )
        client.get("/reset/done/")
    sign = Reservation.objects.get(target="sign")
    auth = Reservation.objects.get(target="auth")
    body = client.get("/").content.decode()
    assert "署名用パスワード初期化予約有効期限" in body
    assert "利用者証明用パスワード初期化予約有効期限" in body
    for booked in (sign, auth):
        assert f"?id={booked.public_id}" in body
        # The deadline says its time zone, as on the done page: a resident abroad reads it too.
        shown = booked.expires.astimezone(JST).strftime("%Y/%m/%d %H:%M")
        assert re.search(rf"{re.escape(shown)}</time></strong>\(日本時間\)", body)
        page = client.get(f"/reset/reservation/?id={booked.public_id}").content.decode()
        assert booked.get_target_display() in page
        ics = client.get(f"/reset/reservation.ics?id={booked.public_id}").content.decode()
        # DTEND is UTC (RFC 5545 §3.3.5 form 2); the JST date differs from it after 15:00 UTC.
        assert "DTEND:" + booked.expires.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in ics


@pytest.mark.django_db
def test_a_reservation_of_another_browser_is_not_shown_by_id(client: Client) -> None:
    _at_done(client)
    client.get("/reset/done/")
    booked = Reservation.objects.get()
    stranger = Client()
    assert stranger.get(f"/reset/reservation/?id={booked.public_id}")["Location"] == "/"


@pytest.mark.django_db
def test_the_choice_says_a_second_booking_replaces_the_one_this_browser_holds(
    client: Client,
) -> None:
    assert "rebook" not in client.get("/reset/choose/").content.decode()
    _at_done(client)
    client.get("/reset/done/")
    booked = Reservation.objects.get()
    body = client.get("/reset/choose/").content.decode()
    shown = booked.expires.astimezone(JST).strftime("%Y/%m/%d %H:%M")
    assert (f"この端末で署名用パスワードの初期化予約をしています(有効期限 {shown} 日本時間)。"
            "同じカードでもう一度予約すると、前の予約は使えなくなり") in body
    # Said beside the password it concerns, and read out with its button.
    assert 'aria-describedby="sign-desc sign-booked"' in body
    assert 'id="auth-booked"' not in body
    english = client.get("/reset/choose/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"holds a signature password reset booking (valid until {shown} Japan time)" in english
    # A bad choice keeps saying it.
    assert 'id="sign-booked"' in client.post("/reset/choose/", {"target": "x"}).content.decode()
    # Once used at a kiosk the deadline still shows at home, but nothing is replaced any more.
    Reservation.objects.filter(pk=booked.pk).update(state=ReservationState.USED)
    assert 'id="sign-booked"' not in client.get("/reset/choose/").content.decode()
    assert f"{shown}</time>" in client.get("/").content.decode()
