"""Every staff URL refuses anonymous, half-logged-in and non-staff users; clerks stay out of
supervisor pages. The URL patterns are enumerated from staff.urls, never listed by hand."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django_otp import DEVICE_ID_SESSION_KEY

from staff import urls as staff_urls
from staff.access import requires_supervisor
from staff.roles import StaffRole
from staff.tests.staff_users import PASSWORD, current_code, make_user, staff_client

pytestmark = pytest.mark.django_db


def _patterns(
    patterns: list[URLPattern | URLResolver], namespace: str = "staff"
) -> Iterator[URLPattern]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, namespace)
        else:
            yield entry


def _sample_kwargs(pattern: URLPattern) -> dict[str, object]:
    kwargs: dict[str, object] = {}
    for name, converter in pattern.pattern.converters.items():
        if isinstance(converter, UUIDConverter):
            kwargs[name] = uuid.uuid4()
        elif isinstance(converter, IntConverter):
            kwargs[name] = 1
        else:
            kwargs[name] = "x"
    return kwargs


def guarded_urls() -> list[str]:
    urls = []
    for pattern in _patterns(staff_urls.urlpatterns):
        assert pattern.name, f"staff URL without a name: {pattern.pattern}"
        if pattern.name in staff_urls.PUBLIC_URL_NAMES:
            continue
        urls.append(reverse(f"staff:{pattern.name}", kwargs=_sample_kwargs(pattern)))
    return urls


def test_the_enumeration_finds_the_console() -> None:
    assert reverse("staff:home") in guarded_urls()


def _assert_sent_to_login(response, url: str) -> None:
    assert response.status_code == 302, (url, response.status_code)
    assert response["Location"].startswith(reverse("staff:login")), url


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_the_staff_login_everywhere(method: str) -> None:
    client = Client()
    for url in guarded_urls():
        _assert_sent_to_login(getattr(client, method)(url), url)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_password_alone_is_not_a_staff_session(method: str) -> None:
    """force_login = a correct password without the TOTP step: still sent to the login."""
    user, _ = make_user("clerk1", StaffRole.CLERK)
    client = Client()
    client.force_login(user)
    for url in guarded_urls():
        _assert_sent_to_login(getattr(client, method)(url), url)


def test_a_non_staff_account_cannot_pass_the_staff_login() -> None:
    _, device = make_user("resident", None)
    answer = Client().post(
        "/staff/login/",
        {"username": "resident", "password": PASSWORD, "otp_token": current_code(device)},
    )
    assert answer.status_code == 400
    assert "_auth_user_id" not in answer.client.session


@pytest.mark.parametrize("method", ["get", "post"])
def test_non_staff_users_with_both_factors_get_403_everywhere(method: str) -> None:
    """A non-staff account verified some other way (say, a future admin login) is refused."""
    user, device = make_user("resident", None)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    for url in guarded_urls():
        response = getattr(client, method)(url)
        assert response.status_code == 403, (url, response.status_code)


def supervisor_only_urls() -> list[str]:
    return [
        reverse(f"staff:{pattern.name}", kwargs=_sample_kwargs(pattern))
        for pattern in _patterns(staff_urls.urlpatterns)
        if requires_supervisor(pattern.callback)
    ]


def test_clerks_reach_every_clerk_page_but_no_supervisor_page() -> None:
    client = staff_client("clerk1", StaffRole.CLERK)
    supervisor_urls = set(supervisor_only_urls())
    for url in guarded_urls():
        status = client.get(url).status_code
        if url in supervisor_urls:
            assert status == 403, url
        else:
            assert status in (200, 404, 405), (url, status)


def test_supervisors_reach_every_page() -> None:
    client = staff_client("super1", StaffRole.SUPERVISOR)
    for url in guarded_urls():
        assert client.get(url).status_code in (200, 404, 405), url
