"""Page views of the wizard: method, order, session age, and what each page shows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import Client, override_settings

from mynacard.targets import TargetPassword
from reservations.models import Reservation, ReservationState
from reset import wizard_state
from reset.reservation_cookie import COOKIE
from reset.tests.conftest import put_state
from reset.wizard_state import Step

pytestmark = pytest.mark.django_db


def test_home_shows_the_three_official_entries(client: Client) -> None:
    body = client.get("/").content.decode()
    assert "初めての方はこちら" in body
    assert "パスワード初期化予約" in body
    assert "アプリの使い方" in body
    assert "初期化予約有効期限" not in body


def test_home_rejects_post(client: Client) -> None:
    assert client.post("/").status_code == 405


def test_guide_and_help_render(client: Client) -> None:
    assert "必要なもの" in client.get("/guide/").content.decode()
    assert "myna-bridge" in client.get("/help/").content.decode()


def test_choose_lists_both_passwords_and_what_is_not_resettable(client: Client) -> None:
    body = client.get("/reset/choose/").content.decode()
    assert "英(大文字)数字6~16文字" in body
    assert "数字4桁のパスワード" in body
    assert "券面事項入力補助用パスワード" in body
    assert "住民基本台帳" in body


@pytest.mark.parametrize("target", ["sign", "auth"])
def test_choosing_starts_the_wizard_at_the_card_face_step(client: Client, target: str) -> None:
    response = client.post("/reset/choose/", {"target": target})
    assert response.status_code == 302
    assert response["Location"] == "/reset/card/"
    state = wizard_state.load(client.session)
    assert state is not None
    assert state.target == target
    assert state.step == Step.CARD_FACE


def test_it_rejects_an_unknown_target(client: Client) -> None:
    response = client.post("/reset/choose/", {"target": "juki"})
    assert response.status_code == 400
    assert wizard_state.load(client.session) is None


def test_choose_rejects_put(client: Client) -> None:
    assert client.put("/reset/choose/").status_code == 405


def test_card_page_without_a_wizard_goes_home_with_a_message(client: Client) -> None:
    response = client.get("/reset/card/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "最初からやり直してください" in response.content.decode()


def test_card_page_holds_no_server_side_form_values(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    body = client.get("/reset/card/").content.decode()
    assert 'name="birth_date"' in body
    assert 'name="security_code"' in body
    assert "<noscript>" in body
    assert "カメラで読み取る" in body
    # The card-face form never posts to the server: it has no action and no method.
    assert 'id="card-face-form" novalidate' in body


def test_reloading_the_card_page_mid_way_starts_it_over(client: Client) -> None:
    put_state(client, step=str(Step.CHIP))
    assert client.get("/reset/card/").status_code == 200
    state = wizard_state.load(client.session)
    assert state is not None and state.step == Step.CARD_FACE


def test_it_rejects_an_expired_session(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE), started_at=time.time() - 3600 * 5)
    response = client.get("/reset/card/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert wizard_state.SESSION_KEY not in client.session


def test_card_page_sends_a_resident_past_it_to_the_face_step(client: Client) -> None:
    put_state(client, step=str(Step.FACE), card_identity="ab" * 32, photo_sha256="cd" * 32)
    response = client.get("/reset/card/")
    assert response["Location"] == "/reset/face/"


def test_face_page_refuses_the_wrong_step(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    response = client.get("/reset/face/")
    assert response.status_code == 302
    assert response["Location"] == "/reset/card/"


def test_face_page_includes_the_face_check(client: Client) -> None:
    put_state(client, step=str(Step.FACE), card_identity="ab" * 32, photo_sha256="cd" * 32)
    response = client.get("/reset/face/")
    assert response.status_code == 200
    assert "顔認証の開始" in response.content.decode()


def test_face_page_names_the_servers_paces_and_speaks_by_default_at_the_counter(
    client: Client,
) -> None:
    put_state(client, step=str(Step.FACE), card_identity="ab" * 32, photo_sha256="cd" * 32)
    body = client.get("/reset/face/").content.decode()
    # The seconds the server applies per pace (reset/face_pace.py), named before 開始.
    for pace, label in (("standard", "ふつう(約12秒)"), ("slow", "ゆっくり(約36秒)")):
        assert f'id="face-pace-{pace}" value="{pace}"' in body and label in body
    assert "もっとゆっくり(約120秒)" in body  # ten times the default (WCAG 2.2.1 "Adjust")
    assert 'data-voice-default="off"' in body
    # At a counter terminal (the assisted booking's hook) speech starts switched on.
    assert 'data-voice-default="on"' in client.get("/reset/face/?assisted=1").content.decode()
    # ... and on the terminal of a clerk's assisted booking (reset/assisted_terminal.py).
    session = client.session
    session["assisted"] = "3f1c0d0e-0000-4000-8000-000000000000"
    session.save()
    assert 'data-voice-default="on"' in client.get("/reset/face/").content.decode()


def test_done_refuses_before_the_face_check(client: Client) -> None:
    put_state(client, step=str(Step.FACE), card_identity="ab" * 32, photo_sha256="cd" * 32)
    response = client.post("/reset/done/")
    assert response["Location"] == "/reset/face/"
    assert Reservation.objects.count() == 0


def _passed(client: Client, target: TargetPassword = TargetPassword.SIGN) -> None:
    put_state(
        client,
        step=str(Step.DONE),
        target=str(target),
        card_identity="ab" * 32,
        photo_sha256="cd" * 32,
        face_passed_at=time.time(),
    )


def test_done_books_once_and_forgets_the_wizard(client: Client) -> None:
    _passed(client)
    response = client.get("/reset/done/")
    booked = Reservation.objects.get(state=ReservationState.ACTIVE)
    assert response["Location"] == f"/reset/reservation/?id={booked.public_id}"
    assert COOKIE in response.cookies
    assert wizard_state.SESSION_KEY not in client.session
    # A second visit (reload) books nothing more.
    again = client.get("/reset/done/")
    assert again["Location"] == response["Location"]
    assert Reservation.objects.count() == 1


def test_done_rejects_delete(client: Client) -> None:
    _passed(client)
    assert client.delete("/reset/done/").status_code == 405


def test_home_shows_the_deadline_of_this_browsers_reservation(client: Client) -> None:
    _passed(client, TargetPassword.AUTH)
    client.get("/reset/done/")
    booked = Reservation.objects.get()
    body = client.get("/").content.decode()
    assert "利用者証明用パスワード初期化予約有効期限" in body
    assert booked.deadline_jst.strftime("%Y/%m/%d %H:%M") in body


def test_home_ignores_a_forged_reservation_cookie(client: Client) -> None:
    _passed(client)
    client.get("/reset/done/")
    booked = Reservation.objects.get()
    fresh = Client()
    fresh.cookies[COOKIE] = str(booked.public_id)  # unsigned: must not be believed
    assert "初期化予約有効期限" not in fresh.get("/").content.decode()


def test_home_stops_showing_an_expired_reservation(client: Client) -> None:
    _passed(client)
    client.get("/reset/done/")
    Reservation.objects.update(expires=Reservation.objects.get().created)
    assert "初期化予約有効期限" not in client.get("/").content.decode()


def test_reservation_page_shows_deadline_rules_and_hours(client: Client) -> None:
    _passed(client)
    client.get("/reset/done/")
    body = client.get("/reset/reservation/").content.decode()
    assert "パスワード初期化予約完了" in body
    assert "24時間" in body
    assert "06:30" in body and "23:00" in body
    assert "マイナンバーカードを持参" in body
    assert "6文字以上16文字以下" in body


@override_settings(MYNA_KIOSK_OPENS="06:30", MYNA_KIOSK_CLOSES="06:45")
def test_reservation_page_warns_when_kiosks_are_mostly_closed(client: Client) -> None:
    _passed(client)
    client.get("/reset/done/")
    body = client.get("/reset/reservation/").content.decode()
    assert 'id="kiosk-warning"' in body


def test_reservation_page_without_a_cookie_goes_home(client: Client) -> None:
    assert client.get("/reset/reservation/")["Location"] == "/"


def test_calendar_file_holds_the_deadline(client: Client) -> None:
    _passed(client)
    client.get("/reset/done/")
    booked = Reservation.objects.get()
    response = client.get("/reset/reservation.ics")
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:{booked.public_id}@myna-reset" in text
    assert "DTEND:" + booked.expires.strftime("%Y%m%dT%H%M%SZ") in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_cancel_clears_the_wizard(client: Client) -> None:
    put_state(client, step=str(Step.CHIP))
    response = client.post("/reset/cancel/")
    assert response["Location"] == "/"
    assert wizard_state.SESSION_KEY not in client.session


def test_back_after_cancel_goes_home_without_saying_the_time_ran_out(client: Client) -> None:
    put_state(client, step=str(Step.CARD_FACE))
    client.post("/reset/cancel/")
    home = client.get("/reset/card/", follow=True)
    assert home.redirect_chain == [("/", 302)]
    assert "時間切れ" not in home.content.decode()
    # A wizard begun again and then timed out still says so.
    client.post("/reset/choose/", {"target": "sign"})
    put_state(client, step=str(Step.CARD_FACE), started_at=time.time() - 3600 * 5)
    assert "時間切れ" in client.get("/reset/card/", follow=True).content.decode()


def test_cancel_rejects_get(client: Client) -> None:
    assert client.get("/reset/cancel/").status_code == 405


def test_service_worker_is_served_from_the_root_with_its_scope(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert "/offline/" in body
    assert "/^\\/reset\\//" in body and "/^\\/ws\\//" in body  # never cached


def test_manifest_names_installable_icons(client: Client) -> None:
    import json

    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    sizes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    assert data["display"] == "standalone" and data["start_url"] == "/"


def test_offline_page_renders(client: Client) -> None:
    assert "インターネットに接続されていません" in client.get("/offline/").content.decode()


def test_english_is_complete_on_the_home_page(client: Client) -> None:
    client.cookies["django_language"] = "en"
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "First time here" in body or "first time" in body.lower()
    assert "パスワード初期化予約" not in body


def test_every_page_frame_names_an_icon() -> None:
    """A page without one makes the browser ask for /favicon.ico, a 404 in its console."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    frames = [p for p in templates.rglob("*.html") if "<head>" in p.read_text()]
    assert len(frames) >= 3
    for frame in frames:
        assert 'rel="icon"' in frame.read_text(), frame
