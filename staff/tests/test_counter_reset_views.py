"""The clerk's counter-reset pages and the counter terminal's page (issue 12, counter resets).

Socket behaviour (pairing, progress, the card) is in kiosk/tests/test_counter_consumer.py.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from kiosk.counter_session import TERMINAL_CODE_DIGITS
from reservations.audit_log import AuditRecord
from staff.roles import StaffRole
from staff.tests.staff_users import staff_client

pytestmark = pytest.mark.django_db

URL = "/staff/counter-reset/"
CODE = "4" * TERMINAL_CODE_DIGITS
VALID = {
    "document": "passport",
    "reason": "key_locked",
    "operation": "sign_locked_reset",
    "terminal": CODE,
}


def _counter_records() -> list[tuple[str, str, str, str]]:
    return [
        (r.actor, r.action, r.result, r.detail)
        for r in AuditRecord.objects.exclude(action="staff_login").order_by("sequence")
    ]


@pytest.fixture
def clerk() -> Client:
    return staff_client("clerk1", StaffRole.CLERK)


def test_the_form_asks_for_the_document_type_and_never_its_number(clerk: Client) -> None:
    page = clerk.get(URL).content.decode()
    assert "運転免許証" in page and "来庁の理由" in page and "初期化する内容" in page
    assert "番号は記録しません" in page
    fields = {"document", "reason", "operation", "terminal", "csrfmiddlewaretoken"}


    named = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_]+)"', page))
    assert named - {"language", "next"} == fields


def test_the_console_home_links_to_it(clerk: Client) -> None:
    assert f'href="{URL}"' in clerk.get("/staff/").content.decode()


def test_a_valid_check_is_recorded_once_and_opens_the_live_console(clerk: Client) -> None:
    answer = clerk.post(URL, VALID)
    assert answer.status_code == 302
    assert _counter_records() == [("clerk1", "identity_checked", "ok", "passport:key_locked")]
    console = clerk.get(answer["Location"])
    assert console.status_code == 200
    page = console.content.decode()
    assert "旅券(パスポート)" in page and CODE in page
    assert "/ws/staff/counter-reset/" in page and "初期化を実行する" in page
    assert _counter_records() == [("clerk1", "identity_checked", "ok", "passport:key_locked")]


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"document": ""}, "document", "確認した本人確認書類を選んでください。"),
        ({"document": "health_card"}, "document", "確認した本人確認書類を選んでください。"),
        ({"operation": "both_forgotten"}, "operation", "来庁の理由と初期化する内容が合って"),
        ({"terminal": "12ab"}, "terminal", "受付番号は8桁の数字です。"),
        ({"terminal": ""}, "terminal", "受付番号を入力してください。"),
    ],
)
def test_a_bad_form_is_refused_without_a_record(
    clerk: Client, change: dict[str, str], field: str, text: str
) -> None:
    answer = clerk.post(URL, {**VALID, **change})
    assert answer.status_code == 400
    assert text in answer.content.decode()
    assert _counter_records() == []


def test_another_clerks_or_an_unknown_console_is_not_found(clerk: Client) -> None:
    location = clerk.post(URL, VALID)["Location"]
    other = staff_client("clerk2", StaffRole.CLERK)
    assert other.get(location).status_code == 404
    assert clerk.get(f"{URL}{uuid.uuid4()}/").status_code == 404


def test_the_wrong_method_is_refused(clerk: Client) -> None:
    assert clerk.put(URL).status_code == 405
    location = clerk.post(URL, VALID)["Location"]
    assert clerk.post(location).status_code == 405


def test_the_counter_terminal_page_is_japanese_and_switches_to_english() -> None:
    page = Client().get("/kiosk/counter/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    text = page.content.decode()
    assert "マイナンバーカードの暗証番号の再設定" in text and "/ws/counter/" in text
    english = Client()
    english.cookies["django_language"] = "en"
    assert "Resetting the passwords of your My Number Card" in english.get(
        "/kiosk/counter/"
    ).content.decode()
