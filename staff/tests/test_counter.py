"""Counter pages: look-up, history, revoke, the supervisor's audit view and CSV; one audit
record per action; nothing secret or personal in any page or log."""

from __future__ import annotations

import csv
import io
import logging
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from mynacard.targets import TargetPassword
from reservations.audit_log import AuditRecord, verify_chain
from reservations.models import Reservation, ReservationState
from staff.roles import StaffRole
from staff.tests.staff_users import staff_client

pytestmark = pytest.mark.django_db

CARD_IDENTITY = "ab" * 32


@pytest.fixture
def booked() -> Reservation:
    return Reservation.book(card_identity=CARD_IDENTITY, target=TargetPassword.SIGN)


@pytest.fixture
def clerk() -> Client:
    return staff_client("clerk1", StaffRole.CLERK)


def _records_after(start: int) -> list[tuple[str, str, uuid.UUID | None, str, str]]:
    return list(
        AuditRecord.objects.filter(sequence__gt=start).values_list(
            "actor", "action", "reservation", "result", "detail"
        )
    )


def _last_sequence() -> int:
    last = AuditRecord.objects.order_by("-sequence").first()
    return last.sequence if last else 0


def test_login_itself_is_one_record(clerk: Client) -> None:
    assert _records_after(0) == [("clerk1", "staff_login", None, "ok", "")]


def test_a_typed_id_opens_the_reservation_with_one_record(
    clerk: Client, booked: Reservation
) -> None:
    start = _last_sequence()
    response = clerk.get("/staff/reservations/", {"reservation_id": f"  {booked.public_id}  "})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/reservations/{booked.public_id}/"
    page = clerk.get(response["Location"]).content.decode()
    assert str(booked.public_id) in page and "署名用パスワード" in page and "有効" in page
    assert CARD_IDENTITY not in page  # the card's identity hash is not shown
    assert _records_after(start) == [("clerk1", "reservation_viewed", booked.public_id, "ok", "")]


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("not-a-uuid", 400, "予約番号の形式が正しくありません"),
        ("", 400, "予約番号を入力してください。"),
        (str(uuid.UUID(int=7)), 404, "この予約番号の予約はありません。"),
    ],
)
def test_a_wrong_id_gets_a_clear_message(
    clerk: Client, typed: str, status: int, message: str
) -> None:
    start = _last_sequence()
    response = clerk.get("/staff/reservations/", {"reservation_id": typed})
    assert response.status_code == status
    assert message in response.content.decode()
    expected = [("clerk1", "reservation_viewed", uuid.UUID(int=7), "not_found", "")]
    assert _records_after(start) == (expected if status == 404 else [])


def test_revoke_with_a_reason_writes_one_record_and_shows_in_the_history(
    clerk: Client, booked: Reservation
) -> None:
    start = _last_sequence()
    url = f"/staff/reservations/{booked.public_id}/revoke/"
    response = clerk.post(url, {"reason": "resident_request"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.state == ReservationState.REVOKED
    assert _records_after(start) == [
        ("clerk1", "reservation_revoked", booked.public_id, "ok", "resident_request")
    ]
    page = clerk.get(response["Location"]).content.decode()
    assert "予約を取り消しました。" in page and "取消" in page
    assert "予約の取消" in page and "resident_request" in page
    assert 'action="/staff/reservations/' not in page  # no second revoke form

    again = clerk.post(url, {"reason": "resident_request"})
    assert again.status_code == 302
    assert "取り消せません" in clerk.get(again["Location"]).content.decode()
    assert _records_after(start)[1][3] == "not_active"
    assert verify_chain().first_break is None


def test_revoke_without_a_reason_changes_nothing(clerk: Client, booked: Reservation) -> None:
    start = _last_sequence()
    response = clerk.post(f"/staff/reservations/{booked.public_id}/revoke/", {"reason": "x"})
    assert response.status_code == 400
    assert "取消の理由を選んでください。" in response.content.decode()
    booked.refresh_from_db()
    assert booked.state == ReservationState.ACTIVE
    assert _records_after(start) == []


def _table(page: str) -> str:
    return page.split('id="audit-records"', 1)[1]


def test_the_supervisor_filters_and_exports_csv_which_is_itself_recorded(
    booked: Reservation,
) -> None:
    clerk = staff_client("clerk1", StaffRole.CLERK)
    clerk.post(f"/staff/reservations/{booked.public_id}/revoke/", {"reason": "card_lost"})
    supervisor = staff_client("super1", StaffRole.SUPERVISOR)
    assert clerk.get("/staff/audit/").status_code == 403
    assert clerk.get("/staff/audit/export.csv").status_code == 403

    page = supervisor.get("/staff/audit/", {"action": "reservation_revoked"})
    body = _table(page.content.decode())
    assert page.status_code == 200 and "card_lost" in body and "職員ログイン" not in body
    by_actor = _table(supervisor.get("/staff/audit/", {"actor": "super1"}).content.decode())
    assert "職員ログイン" in by_actor and "card_lost" not in by_actor
    assert supervisor.get("/staff/audit/", {"reservation": "nope"}).status_code == 400

    start = _last_sequence()
    today = timezone.localdate().isoformat()
    export = supervisor.get(
        "/staff/audit/export.csv", {"reservation": str(booked.public_id), "since": today}
    )
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:4] == ["sequence", "created", "actor", "action"]
    assert [(r[2], r[3], r[5], r[6]) for r in rows[1:]] == [
        ("clerk1", "reservation_revoked", "ok", "card_lost")
    ]
    assert _records_after(start) == [("super1", "audit_exported", None, "ok", "rows=1")]
    call_command("verify_audit")


def test_no_secret_or_personal_data_in_any_staff_page_or_log(
    booked: Reservation, caplog: pytest.LogCaptureFixture
) -> None:
    """The database has no PIN, photo or card-face item to leak; the pages must not show the
    card identity either, and the log never the typed password or TOTP code."""
    caplog.set_level(logging.DEBUG)
    clerk = staff_client("clerk1", StaffRole.CLERK)
    supervisor = staff_client("super1", StaffRole.SUPERVISOR)
    bodies = [
        clerk.get("/staff/").content,
        clerk.get("/staff/reservations/", {"reservation_id": str(booked.public_id)}).content,
        clerk.get(f"/staff/reservations/{booked.public_id}/").content,
        clerk.post(
            f"/staff/reservations/{booked.public_id}/revoke/", {"reason": "other"}, follow=True
        ).content,
        supervisor.get("/staff/audit/").content,
        supervisor.get("/staff/audit/export.csv").content,
    ]
    text = b"\n".join(bodies).decode() + "\n" + caplog.text
    for secret in (CARD_IDENTITY, "counter-Terminal-42", "otp_token="):
        assert secret not in text
    # No photo or card-face item: no image data, no name/address/birth-date fields.
    for marker in ("data:image", "<img", "<canvas", "<video", "生年月日", "住所", "氏名"):
        assert marker not in text, marker
