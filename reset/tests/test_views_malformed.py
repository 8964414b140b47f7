"""Every JSON endpoint against a table of malformed bodies: a 4xx with a reason code, never a 5xx.

Each endpoint is called at the step where it actually reads its body, so the body reaches the
parser (a wrong-step refusal would hide a crash).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reset import assisted_terminal, wizard_state
from reset.api_views import JSON_API_VIEWS
from reset.tests.conftest import put_state
from reset.tests.test_cardface_browser import CSRF_SECRET
from reset.wizard_state import Step

pytestmark = pytest.mark.django_db

#: (what it is, raw body). Each one crashed a view (RecursionError, TypeError) or could.
BODIES: list[tuple[str, bytes]] = [
    ("deeply nested list", b"[" * 100_000 + b"]" * 100_000),
    ("deeply nested object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("done is a list", b'{"done": []}'),
    ("done is an object", b'{"done": {}}'),
    ("done is a number", b'{"done": 1}'),
    ("done is null", b'{"done": null}'),
    ("a bare list", b"[]"),
    ("a bare string", b'"card_face"'),
    ("a bare number", b"12"),
    ("an empty body", b""),
    ("not JSON", b"done=card_face"),
    ("not UTF-8", b'{"done": "\xff\xfe"}'),
    ("a lone surrogate", b'{"done": "\\ud800"}'),
    ("a huge integer", b'{"done": ' + b"9" * 10_000 + b"}"),
    ("a huge float", b'{"done": 1e999999}'),
    ("NaN", b'{"done": NaN}'),
    ("binary fields are lists", b'{"nonce": [], "jpki_key": [], "card_face": {}}'),
    ("jpki_key is an object", b'{"jpki_key": {"a": 1}}'),
    ("origin is a list", b'{"origin": ["x"], "purpose": {"a": 1}}'),
    ("truncated", b'{"done": "card_'),
]

#: The step at which each endpoint reads its body.
STEP_FOR = {
    "reset:progress": Step.CARD_FACE,
    "reset:nonce": Step.CHIP,
    "reset:evidence": Step.CHIP,
    "reset:cardface": Step.CARD_FACE,
    "reset:more_time": Step.CARD_FACE,  # reads no body; it must not fail on one either
    "reset:cardface_burst": Step.CARD_FACE,
    # Refused before its body unless the session is an assisted terminal's; see below.
    "reset:tries": Step.PASSWORD,
}
CONTENT_TYPES = ["application/json", "text/plain", "image/jpeg"]


def test_the_table_covers_every_json_endpoint() -> None:
    assert set(STEP_FOR) == set(JSON_API_VIEWS)


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize(("what", "body"), BODIES, ids=[what for what, _ in BODIES])
@pytest.mark.parametrize("view", sorted(STEP_FOR))
def test_no_json_endpoint_answers_bad_input_with_a_server_error(
    client: Client, view: str, what: str, body: bytes, content_type: str
) -> None:
    put_state(client, step=str(STEP_FOR[view]))
    response = client.post(reverse(view), data=body, content_type=content_type)
    assert response.status_code < 500, (view, what, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    if response.status_code >= 400:
        assert data["ok"] is False
        assert data["reason"] and data["message"]
    # A refused body leaves the wizard where it was (or, for the nonce, one step on at most).
    state = wizard_state.load(client.session)
    assert state is not None


@pytest.mark.parametrize(("what", "body"), BODIES, ids=[what for what, _ in BODIES])
@pytest.mark.parametrize("url", ["/reset/progress/", "/reset/evidence/"])
def test_the_body_reading_endpoints_say_malformed(
    client: Client, url: str, what: str, body: bytes
) -> None:
    put_state(client, step=str(Step.CHIP if url.endswith("evidence/") else Step.CARD_FACE))
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400, (what, response.content[:200])
    assert response.json()["reason"] == "malformed"


@pytest.mark.parametrize("view", sorted(STEP_FOR))
def test_a_form_body_behind_the_csrf_check_is_refused_not_a_server_error(view: str) -> None:
    """A multipart or form-encoded POST with a valid CSRF token: the CSRF middleware parses it
    for its token, after which the raw body cannot be read (it answered 500 on the walk)."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET
    put_state(client, step=str(STEP_FOR[view]))
    if view == "reset:tries":
        session = client.session
        session[assisted_terminal.SESSION_KEY] = "walk"
        session.save()
    for data in ({"done": "card_face"}, {"tries_left": "3"}):
        response = client.post(reverse(view), data=data, headers={"X-CSRFToken": CSRF_SECRET})
        assert response.status_code < 500, (view, response.content[:200])
        assert response["Content-Type"].startswith("application/json")
        if view in ("reset:progress", "reset:evidence", "reset:tries"):
            assert response.status_code == 400 and response.json()["reason"] == "malformed"
